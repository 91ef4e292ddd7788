-- A later migration that adds a reference row: written on the writable copy, skipped on the copies, which get it by
-- replication.
INSERT INTO plans (id, name) VALUES (4, 'team');
