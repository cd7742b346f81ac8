-- One database per service, all owned by linli (the image's POSTGRES_USER, created before this runs).
-- Run once by the postgres image's entrypoint, through psql, on an empty data directory.
SELECT format('CREATE DATABASE %I OWNER linli', name)
FROM unnest(ARRAY['registry', 'points', 'fund', 'notify']) AS name
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name)
\gexec
