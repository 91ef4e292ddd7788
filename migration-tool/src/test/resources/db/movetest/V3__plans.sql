-- Reference tables for ReferenceTablesTest (other tests leave them plain tables), with seed rows as a migration would
-- have them; accounts points at plans by a foreign key, as a tenant table would; audit_log has no primary key, for the
-- refusal.
CREATE TABLE plans (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO plans (id, name) VALUES (1, 'free'), (2, 'pro');
CREATE TABLE currencies (code text PRIMARY KEY, name text NOT NULL);
INSERT INTO currencies (code, name) VALUES ('EUR', 'euro'), ('CHF', 'Swiss franc');
CREATE TABLE accounts (tenant_id bigint NOT NULL, id bigint NOT NULL, plan_id bigint NOT NULL REFERENCES plans (id),
    PRIMARY KEY (tenant_id, id));
CREATE TABLE audit_log (at timestamptz NOT NULL DEFAULT now(), message text);
