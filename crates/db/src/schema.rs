//! The one schema, written by hand in portable types (both backends' migrations must match it;
//! the test suite runs every query on both).

diesel::table! {
    accounts (id) {
        id -> Text,
        role -> Text,
        email_index -> Text,
        email_sealed -> Binary,
        display_name_sealed -> Binary,
        password_hash -> Text,
        dek_wrapped -> Binary,
        kek_version -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        email_index -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        tree_size -> BigInt,
    }
}

diesel::table! {
    audit_leaves (idx) {
        idx -> BigInt,
        recorded_at -> Timestamp,
        action -> Text,
        actor_role -> Text,
        company_id -> Nullable<Text>,
        leaf -> Text,
        leaf_hash -> Binary,
    }
}

diesel::table! {
    audit_nodes (last_leaf, level) {
        last_leaf -> BigInt,
        level -> Integer,
        hash -> Binary,
    }
}

diesel::table! {
    audit_tree_heads (tree_size) {
        tree_size -> BigInt,
        root_hash -> Binary,
        timestamp_ms -> BigInt,
        signature -> Binary,
        key_id -> Text,
    }
}

diesel::table! {
    regulator_checkpoints (account_id) {
        account_id -> Text,
        tree_size -> BigInt,
        root_hash -> Binary,
        acknowledged_at -> Timestamp,
    }
}

diesel::table! {
    vault_records (id) {
        id -> Text,
        citizen_id -> Text,
        category -> Text,
        version -> Integer,
        sealed -> Binary,
        single_key -> Nullable<Text>,
        dedup_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(vault_records -> accounts (citizen_id));
diesel::joinable!(regulator_checkpoints -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    login_failures,
    sessions,
    audit_head,
    audit_leaves,
    audit_nodes,
    audit_tree_heads,
    regulator_checkpoints,
    vault_records,
);
