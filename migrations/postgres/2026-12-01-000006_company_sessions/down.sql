ALTER TABLE companies DROP COLUMN secret_rotated_at;
