-- When the company's client secret was last replaced (by the company or by the operator): every
-- company-portal session signed in before it ends, so leaked credentials lose their sessions too.
ALTER TABLE companies ADD COLUMN secret_rotated_at TIMESTAMP;
