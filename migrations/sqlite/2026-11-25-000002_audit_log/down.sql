DROP TABLE regulator_checkpoints;
DROP TABLE audit_tree_heads;
DROP TABLE audit_nodes;
DROP INDEX audit_leaves_by_company;
DROP INDEX audit_leaves_by_action;
DROP TABLE audit_leaves;
DROP TABLE audit_head;
