DROP TABLE disclosure_refusals;
DROP TABLE citizen_notices;
