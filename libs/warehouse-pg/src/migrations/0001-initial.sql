-- The warehouse tables. Runs inside the migration transaction with search_path set to the
-- warehouse schema (default churn), so names here are unqualified. Views are not here: they
-- list the segment columns, which loads add, so the loader (re)creates them (analyst-views).

-- One row per run loaded (the run id names the output, so a rerun of the same request is the
-- same row). state: loaded (its rows are the slice's), held (loaded, but the drift gate keeps it
-- out of the latest scores until churn release), released (a held run, released), replaced (a
-- newer run of the same as-of and model now holds the slice).
CREATE TABLE runs (
  run_id text PRIMARY KEY,
  attempt integer NOT NULL CHECK (attempt >= 1),
  as_of date NOT NULL,
  model_name text NOT NULL,
  model_version text NOT NULL,
  model_digest text NOT NULL,
  dataset text NOT NULL,
  output text NOT NULL,
  state text NOT NULL CHECK (state IN ('loaded', 'held', 'released', 'replaced')),
  held boolean GENERATED ALWAYS AS (state = 'held') STORED,
  rows_read bigint NOT NULL,
  rows_scored bigint NOT NULL,
  rows_quarantined bigint NOT NULL,
  rows_ineligible bigint NOT NULL,
  rows_explained bigint NOT NULL,
  started_at timestamptz NOT NULL,
  committed_at timestamptz NOT NULL,
  loaded_at timestamptz NOT NULL,
  seconds double precision NOT NULL,
  cpu_seconds double precision NOT NULL,
  device text NOT NULL,
  drift_status text,
  settings jsonb NOT NULL,
  execution jsonb NOT NULL,
  manifest jsonb NOT NULL
);
CREATE INDEX runs_slice ON runs (model_name, model_version, as_of);

-- One row per scored customer of the slice's current run. Partitioned by as_of (one partition
-- per date, created by the load that first needs it). Contributions are one jsonb object per
-- row ({"<feature or group>": value}, null where not explained): the set of features differs
-- per model and this table holds every model, so typed columns would be a union of all models'
-- features, mostly null, growing with each new model. Segment columns (the bundle's
-- pass-through columns, e.g. plan and mrr) are typed columns, added by the load that first
-- carries them, so analysts filter on them as in the Parquet table.
CREATE TABLE scores (
  as_of date NOT NULL,
  model_name text NOT NULL,
  model_version text NOT NULL,
  customer_id text NOT NULL,
  score real NOT NULL,
  risk_band text NOT NULL,
  model_digest text NOT NULL,
  run_id text NOT NULL,
  scored_at timestamptz NOT NULL,
  explained boolean NOT NULL,
  base_value real,
  contributions jsonb,
  reason_1 text,
  reason_2 text,
  reason_3 text,
  reason_1_text text,
  reason_2_text text,
  reason_3_text text,
  PRIMARY KEY (as_of, model_name, model_version, customer_id)
) PARTITION BY RANGE (as_of);

-- The segment columns added to scores so far, with their types.
CREATE TABLE segment_columns (
  name text PRIMARY KEY,
  sql_type text NOT NULL,
  categorical boolean NOT NULL
);

-- Rows the slice's current run did not score, with the reason.
CREATE TABLE quarantine (
  as_of date NOT NULL,
  model_name text NOT NULL,
  model_version text NOT NULL,
  run_id text NOT NULL,
  customer_id text,
  source_file text NOT NULL,
  row_index integer NOT NULL,
  reason_code text NOT NULL,
  reason_detail text NOT NULL
);
CREATE INDEX quarantine_slice ON quarantine (model_name, model_version, as_of);

-- Drift of each loaded run against the training profile: one row per model feature, one for the
-- score (subject 'score') and one for the quarantine rate (subject 'quarantine_rate').
CREATE TABLE drift (
  run_id text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  as_of date NOT NULL,
  model_name text NOT NULL,
  model_version text NOT NULL,
  subject text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('feature', 'score', 'quarantine')),
  psi double precision,
  js_distance double precision,
  null_rate double precision,
  reference_null_rate double precision,
  rate double precision,
  reference_rate double precision,
  status text NOT NULL,
  PRIMARY KEY (run_id, subject)
);

-- Realized performance of a run once outcomes arrived (churn evaluate), one row per evaluation.
CREATE TABLE evaluations (
  run_id text NOT NULL,
  as_of date NOT NULL,
  model_name text NOT NULL,
  model_version text NOT NULL,
  evaluated_at timestamptz NOT NULL,
  labels text NOT NULL,
  label_column text NOT NULL,
  rows_scored bigint NOT NULL,
  rows_joined bigint NOT NULL,
  auc double precision,
  brier double precision NOT NULL,
  training_auc double precision,
  evaluation jsonb NOT NULL,
  PRIMARY KEY (run_id, evaluated_at)
);
