-- scores as one leaf table per slice (as_of, model name, model version), typed contributions,
-- and a primary-key index that leads with customer_id. Why (measured, docs/decisions.md): the
-- load builds each slice's table apart (COPY into a new table, the primary key built after by
-- one sort, the slice's constant columns added as defaults that no row stores) and swaps it in,
-- so neither an index nor a DELETE of the old rows is paid per row. Runs inside the migration
-- transaction with search_path set to the warehouse schema.

DROP VIEW IF EXISTS reason_summary, score_changes, scores_latest;

-- The version 1 table and its date partitions step aside under other names; their rows move below.
ALTER TABLE scores RENAME TO scores_v1;
ALTER INDEX scores_pkey RENAME TO scores_v1_pkey;
DO $$
DECLARE p record;
BEGIN
  FOR p IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'scores_v1'::regclass LOOP
    EXECUTE format('ALTER TABLE %I RENAME TO %I', p.relname, 'v1_' || p.relname);
  END LOOP;
END $$;

-- scores: partitioned by as_of (one partition per date), each date by model_name, each model by
-- model_version: a leaf is one slice, the rows of the slice's current run. customer_id compares
-- bytewise (COLLATE "C"), so the key's sort uses abbreviated keys. contributions is a real[] in
-- the order of the run's runs.contribution_features (the view score_contributions pairs them).
CREATE TABLE scores (
  as_of date NOT NULL,
  model_name text NOT NULL,
  model_version text NOT NULL,
  customer_id text COLLATE "C" NOT NULL,
  score real NOT NULL,
  risk_band text NOT NULL,
  model_digest text NOT NULL,
  run_id text NOT NULL,
  scored_at timestamptz NOT NULL,
  explained boolean NOT NULL,
  base_value real,
  contributions real[],
  reason_1 text,
  reason_2 text,
  reason_3 text,
  reason_1_text text,
  reason_2_text text,
  reason_3_text text,
  PRIMARY KEY (customer_id, as_of, model_name, model_version)
) PARTITION BY RANGE (as_of);

-- The feature (or group) of each element of a run's contributions.
ALTER TABLE runs ADD COLUMN contribution_features text[] NOT NULL DEFAULT '{}';

-- The partition a slice's leaf is attached to (the model's partition of the date's partition),
-- and the leaf's name; creates the date's and the model's partitions when missing, under an
-- advisory lock per date (loads run concurrently). Called outside the load's transaction, so
-- the lock that creating a partition takes on its parent is held for an instant only.
CREATE FUNCTION scores_slice(p_as_of date, p_model_name text, p_model_version text, OUT parent text, OUT leaf text)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
DECLARE
  day text := to_char(p_as_of, 'YYYYMMDD');
  date_part text := 'scores_' || day;
BEGIN
  parent := date_part || '_' || left(md5(p_model_name), 12);
  leaf := parent || '_' || left(md5(p_model_version), 12);
  IF to_regclass(quote_ident(parent)) IS NOT NULL THEN RETURN; END IF;
  PERFORM pg_advisory_xact_lock(hashtext('churn-warehouse-partition:' || current_schema()), hashtext(day));
  IF to_regclass(quote_ident(date_part)) IS NULL THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF scores FOR VALUES FROM (%L) TO (%L) PARTITION BY LIST (model_name)', date_part, p_as_of, p_as_of + 1);
  END IF;
  IF to_regclass(quote_ident(parent)) IS NULL THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%L) PARTITION BY LIST (model_version)', parent, date_part, p_model_name);
  END IF;
END $fn$;

-- Segment columns the version 1 table gained, on the new one.
DO $$
DECLARE c record;
BEGIN
  FOR c IN SELECT name, sql_type FROM segment_columns LOOP
    EXECUTE format('ALTER TABLE scores ADD COLUMN %I %s', c.name, c.sql_type);
  END LOOP;
END $$;

-- The rows move slice by slice; a slice's contributions take the order of its jsonb keys.
DO $$
DECLARE
  s record;
  sl record;
  features text[];
  cols text := (SELECT string_agg(quote_ident(name), ', ') FROM segment_columns);
BEGIN
  FOR s IN SELECT DISTINCT as_of, model_name, model_version FROM scores_v1 LOOP
    SELECT * INTO sl FROM scores_slice(s.as_of, s.model_name, s.model_version);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%L)', sl.leaf, sl.parent, s.model_version);
    SELECT coalesce(array_agg(k ORDER BY k), '{}') INTO features FROM (
      SELECT jsonb_object_keys(contributions) AS k FROM (
        SELECT contributions FROM scores_v1
        WHERE as_of = s.as_of AND model_name = s.model_name AND model_version = s.model_version AND contributions IS NOT NULL LIMIT 1) one) keys;
    EXECUTE format(
      'INSERT INTO scores (as_of, model_name, model_version, customer_id, score, risk_band, model_digest, run_id, scored_at, explained, base_value, contributions,
         reason_1, reason_2, reason_3, reason_1_text, reason_2_text, reason_3_text%1$s)
       SELECT as_of, model_name, model_version, customer_id, score, risk_band, model_digest, run_id, scored_at, explained, base_value,
         CASE WHEN contributions IS NULL THEN NULL ELSE ARRAY(SELECT (contributions ->> f)::real FROM unnest($4::text[]) WITH ORDINALITY u(f, n) ORDER BY n) END,
         reason_1, reason_2, reason_3, reason_1_text, reason_2_text, reason_3_text%1$s
       FROM scores_v1 WHERE as_of = $1 AND model_name = $2 AND model_version = $3',
      CASE WHEN cols IS NULL THEN '' ELSE ', ' || cols END)
    USING s.as_of, s.model_name, s.model_version, features;
    UPDATE runs SET contribution_features = features WHERE as_of = s.as_of AND model_name = s.model_name AND model_version = s.model_version;
  END LOOP;
END $$;

DROP TABLE scores_v1;

-- One row per explained customer and feature: each contribution with its feature's name (the
-- same view as churn query's, which unpivots the Parquet contrib_<feature> columns).
CREATE VIEW score_contributions AS
SELECT s.as_of, s.model_name, s.model_version, s.customer_id, s.run_id, c.feature, c.contribution
FROM scores s
JOIN runs r ON r.run_id = s.run_id
CROSS JOIN LATERAL unnest(r.contribution_features, s.contributions) AS c(feature, contribution)
WHERE s.contributions IS NOT NULL AND c.contribution IS NOT NULL;
