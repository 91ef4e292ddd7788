-- A reference table (ReferenceTablesTest lists it under reference.tables; other tests leave it a plain table), with
-- seed rows as a migration would have them, and a table without a primary key for the refusal.
CREATE TABLE plans (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO plans (id, name) VALUES (1, 'free'), (2, 'pro');
CREATE TABLE audit_log (at timestamptz NOT NULL DEFAULT now(), message text);
