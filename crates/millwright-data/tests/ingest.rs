//! Ingest and cleaning semantics, through the library API on small generated files.

use std::path::{Path, PathBuf};

use millwright_data::arrow::array::{Array, AsArray};
use millwright_data::arrow::datatypes::{Float64Type, Int64Type};
use millwright_data::arrow::record_batch::RecordBatch;
use millwright_data::clean::CleanConfig;
use millwright_data::ingest::{ingest, IngestOptions};
use millwright_data::lake::{Lake, WriteMode};
use millwright_data::DataError;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn home(&self) -> &Path {
        self.dir.path()
    }
    fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
    async fn ingest(
        &self,
        name: &str,
        file: &Path,
        mode: WriteMode,
        config: &str,
    ) -> Result<i64, DataError> {
        let mut options = IngestOptions::new(name, mode);
        options.clean = toml::from_str::<CleanConfig>(config).unwrap();
        ingest(self.home(), file, &options).await.map(|o| o.version)
    }
    async fn read(&self, name: &str) -> RecordBatch {
        let lake = Lake::open(self.home()).unwrap();
        let (table, _) = lake.read_table(name, None).await.unwrap();
        millwright_data::arrow::compute::concat_batches(&table.schema, &table.batches).unwrap()
    }
    async fn floats(&self, name: &str, column: &str) -> Vec<Option<f64>> {
        let batch = self.read(name).await;
        let index = batch.schema().index_of(column).unwrap();
        batch
            .column(index)
            .as_primitive::<Float64Type>()
            .iter()
            .collect()
    }
    fn quarantined(&self, name: &str) -> u64 {
        let lake = Lake::open(self.home()).unwrap();
        lake.commit_record(name, None)
            .unwrap()
            .unwrap()
            .1
            .report
            .unwrap()
            .rows_quarantined
    }
}

#[tokio::test]
async fn fills_missing_values_by_rule() {
    let f = Fixture::new();
    let csv = f.file(
        "m.csv",
        "t,mean_col,median_col,const_col,ffill_col,interp_col,kind\n\
         1,1.0,1.0,1.0,1.0,0.0,a\n\
         2,,,,,,\n\
         3,3.0,2.0,3.0,3.0,,a\n\
         4,8.0,100.0,4.0,,6.0,b\n",
    );
    let config = r#"
        time_column = "t"
        [defaults]
        outliers = "none"
        [columns.mean_col]
        missing = "mean"
        [columns.median_col]
        missing = "median"
        [columns.const_col]
        missing = "constant"
        fill = -1.0
        [columns.ffill_col]
        missing = "ffill"
        [columns.interp_col]
        missing = "interpolate"
        [columns.kind]
        missing = "mode"
    "#;
    f.ingest("m", &csv, WriteMode::Create, config)
        .await
        .unwrap();
    assert_eq!(
        f.floats("m", "mean_col").await,
        vec![Some(1.0), Some(4.0), Some(3.0), Some(8.0)]
    );
    assert_eq!(f.floats("m", "median_col").await[1], Some(2.0));
    assert_eq!(f.floats("m", "const_col").await[1], Some(-1.0));
    assert_eq!(
        f.floats("m", "ffill_col").await,
        vec![Some(1.0), Some(1.0), Some(3.0), Some(3.0)]
    );
    assert_eq!(
        f.floats("m", "interp_col").await,
        vec![Some(0.0), Some(2.0), Some(4.0), Some(6.0)]
    );
    let batch = f.read("m").await;
    let kind = batch
        .column(batch.schema().index_of("kind").unwrap())
        .as_string::<i32>();
    assert_eq!(kind.value(1), "a");
}

#[tokio::test]
async fn outliers_are_flagged_clipped_or_quarantined() {
    let f = Fixture::new();
    let mut text = String::from("x,y,z\n");
    for i in 0..50 {
        let v = 10.0 + (i % 5) as f64 * 0.1;
        text.push_str(&format!("{v},{v},{v}\n"));
    }
    text.push_str("500.0,500.0,500.0\n");
    let csv = f.file("o.csv", text);
    let config = r#"
        [duplicates]
        mode = "none"
        [columns.x]
        outliers = "zscore"
        outlier_k = 3.0
        outlier_action = "flag"
        [columns.y]
        outliers = "iqr"
        outlier_k = 1.5
        outlier_action = "clip"
        [columns.z]
        outliers = "mad"
        outlier_action = "drop"
    "#;
    f.ingest("o", &csv, WriteMode::Create, config)
        .await
        .unwrap();
    let batch = f.read("o").await;
    assert_eq!(batch.num_rows(), 50, "the z outlier row is quarantined");
    assert_eq!(f.quarantined("o"), 1);
    let flags = batch
        .column(batch.schema().index_of("x__outlier").unwrap())
        .as_boolean();
    assert_eq!(
        flags.true_count(),
        0,
        "the flagged row left with the dropped z outlier"
    );
    let y = f.floats("o", "y").await;
    assert!(y.iter().all(|v| v.unwrap() < 11.0));
    let lake = Lake::open(f.home()).unwrap();
    let report = lake
        .commit_record("o", None)
        .unwrap()
        .unwrap()
        .1
        .report
        .unwrap();
    let found: Vec<u64> = report
        .columns
        .iter()
        .map(|c| c.actions.outliers.as_ref().unwrap().found)
        .collect();
    assert_eq!(found, vec![1, 1, 1]);
    let quarantine = f.read("o__quarantine").await;
    let reason = quarantine
        .column(quarantine.schema().index_of("reason").unwrap())
        .as_string::<i32>();
    assert!(
        reason.value(0).contains("outlier 500"),
        "{}",
        reason.value(0)
    );
}

#[tokio::test]
async fn bounds_and_duplicates_and_smoothing() {
    let f = Fixture::new();
    let csv = f.file(
        "b.csv",
        "id,temp,vib\n1,20.0,1.0\n2,-300.0,2.0\n3,25.0,3.0\n3,25.0,3.0\n4,999.0,4.0\n5,22.0,5.0\n",
    );
    let config = r#"
        [defaults]
        outliers = "none"
        [columns.temp]
        min = -50.0
        max = 150.0
        bounds_action = "drop"
        [columns.vib]
        smooth = "rolling_median"
        window = 3
    "#;
    f.ingest("b", &csv, WriteMode::Create, config)
        .await
        .unwrap();
    let batch = f.read("b").await;
    let ids: Vec<i64> = batch
        .column(0)
        .as_primitive::<Int64Type>()
        .values()
        .to_vec();
    assert_eq!(
        ids,
        vec![1, 3, 5],
        "out-of-bounds rows and the exact duplicate are quarantined"
    );
    assert_eq!(f.quarantined("b"), 3);
    assert_eq!(
        f.floats("b", "vib").await,
        vec![Some(1.0), Some(2.0), Some(3.0)]
    );

    let g = Fixture::new();
    let csv = g.file("k.csv", "machine,t,v\nA,1,1.0\nA,1,2.0\nB,1,3.0\n");
    let config = "[duplicates]\nmode = \"key\"\nkey = [\"machine\", \"t\"]\n[columns.v]\nsmooth = \"ewma\"\nalpha = 0.5\n";
    g.ingest("k", &csv, WriteMode::Create, config)
        .await
        .unwrap();
    assert_eq!(g.floats("k", "v").await, vec![Some(1.0), Some(2.0)]);
}

#[tokio::test]
async fn parses_kinds_timestamps_and_missing_tokens() {
    let f = Fixture::new();
    let csv = f.file(
        "t.csv",
        "\u{feff}when;epoch_s;ok;温度;note\r\n\
         2024-01-01T08:00:00Z;1700000000;true;1,5;N/A\r\n\
         2024-01-01 09:00:00;1700000060;no;NaN;-\r\n\
         2024-01-02;1700000120;yes;inf;hello\r\n",
    );
    f.ingest("t", &csv, WriteMode::Create, "").await.unwrap();
    let lake = Lake::open(f.home()).unwrap();
    let record = lake.commit_record("t", None).unwrap().unwrap().1;
    let kinds: Vec<&str> = record.columns.iter().map(|c| c.kind.name()).collect();
    // `1,5` is not a float in a `;` file with `.` decimals: the column is text, so `inf` is kept as text.
    assert_eq!(
        kinds,
        vec!["timestamp", "timestamp", "bool", "string", "string"]
    );
    let batch = f.read("t").await;
    assert_eq!(batch.num_rows(), 3);
    let note = batch.column(4).as_string::<i32>();
    assert!(note.is_null(0) && note.is_null(1), "N/A and - are missing");
}

/// A Windows export: CRLF, blank lines, a quoted field across lines, a lone CR. Quarantined rows name the
/// line each starts on, before and after the quoted stretch.
#[tokio::test]
async fn quarantined_rows_name_their_line_in_crlf_files_with_quotes() {
    let f = Fixture::new();
    let csv = f.file(
        "w.csv",
        "id,temp,note\r\n\
         1,20.5,ok\r\n\
         \r\n\
         2,abc,blank line above\r\n\
         3,21.0,\"two\r\nlines\"\r\n\
         4,21.5,a,b\r\n\
         5,22.0,x\ry\r\n\
         6,22.5,last",
    );
    f.ingest(
        "w",
        &csv,
        WriteMode::Create,
        "[columns.temp]\nkind = \"float\"\n",
    )
    .await
    .unwrap();
    let kept = f.read("w").await;
    // The lone CR ends a record, as in the csv crate: `5,22.0,x` is kept and `y` is ragged.
    assert_eq!(kept.num_rows(), 4, "rows 1, 3, 5 and 6");
    let note = kept.column(2).as_string::<i32>();
    assert_eq!(note.value(1), "two\r\nlines");
    let quarantine = f.read("w__quarantine").await;
    let index = quarantine.schema().index_of("line").unwrap();
    let lines: Vec<i64> = quarantine
        .column(index)
        .as_primitive::<Int64Type>()
        .values()
        .to_vec();
    // `2,abc` after the blank line, the ragged row after the quoted one, and `y`.
    assert_eq!(lines, vec![4, 7, 8]);
}

#[tokio::test]
async fn jsonl_and_parquet_sources() {
    let f = Fixture::new();
    let jsonl = f.file(
        "r.jsonl",
        "{\"machine\":\"A\",\"rpm\":1500,\"temp\":300.5}\n[1,2,3]\n{\"machine\":\"B\",\"rpm\":1400,\"temp\":null}\n{\"machine\":\"C\",\"rpm\":1400,\"extra\":1}\n",
    );
    f.ingest("j", &jsonl, WriteMode::Create, "").await.unwrap();
    // Keys come from the sample (here every line), so `extra` is a column; the array line is quarantined.
    assert_eq!(f.read("j").await.num_rows(), 3);
    assert_eq!(f.quarantined("j"), 1);

    // Round trip through Parquet: write the table out, ingest it as a new dataset.
    let lake = Lake::open(f.home()).unwrap();
    let (table, _) = lake.read_table("j", None).await.unwrap();
    let path = f.dir.path().join("j.parquet");
    let file = std::fs::File::create(&path).unwrap();
    let mut writer =
        millwright_data::parquet::arrow::ArrowWriter::try_new(file, table.schema.clone(), None)
            .unwrap();
    for b in &table.batches {
        writer.write(b).unwrap();
    }
    writer.close().unwrap();
    f.ingest("p", &path, WriteMode::Create, "").await.unwrap();
    assert_eq!(f.read("p").await.num_rows(), 3);

    // A truncated Parquet file is a clear error and creates nothing.
    let bytes = std::fs::read(&path).unwrap();
    let truncated = f.file("cut.parquet", &bytes[..bytes.len() / 2]);
    let err = f
        .ingest("cut", &truncated, WriteMode::Create, "")
        .await
        .unwrap_err();
    assert!(matches!(err, DataError::Parquet { .. }), "{err}");
    assert!(!lake.exists("cut"));
}

#[tokio::test]
async fn append_is_additive_and_a_type_change_is_refused() {
    let f = Fixture::new();
    let a = f.file("a.csv", "id,v\n1,1.5\n2,2.5\n");
    let b = f.file("b.csv", "id,v,new\n3,3.5,x\n");
    let c = f.file("c.csv", "id,v\n4,not-a-number\n5,also-text\n");
    assert_eq!(f.ingest("d", &a, WriteMode::Create, "").await.unwrap(), 0);
    assert!(matches!(
        f.ingest("d", &a, WriteMode::Create, "").await.unwrap_err(),
        DataError::DatasetExists { .. }
    ));
    assert_eq!(f.ingest("d", &b, WriteMode::Append, "").await.unwrap(), 1);
    let err = f.ingest("d", &c, WriteMode::Append, "").await.unwrap_err();
    assert!(matches!(err, DataError::ColumnKindChanged { .. }), "{err}");
    let lake = Lake::open(f.home()).unwrap();
    assert_eq!(
        lake.latest_version("d").unwrap(),
        1,
        "the refused append left no commit"
    );
    assert_eq!(f.read("d").await.num_rows(), 3);
    assert_eq!(
        f.ingest("d", &c, WriteMode::Overwrite, "").await.unwrap(),
        2
    );
    let (old, v) = lake.read_table("d", Some(1)).await.unwrap();
    assert_eq!(
        (old.num_rows(), v),
        (3, 1),
        "time travel still reads the overwritten version"
    );
}

#[tokio::test]
async fn spills_to_disk_past_the_memory_budget() {
    let f = Fixture::new();
    let mut text = String::from("i,x\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},{}\n", (i as f64).sin()));
    }
    let csv = f.file("big.csv", text);
    let mut options = IngestOptions::new("big", WriteMode::Create);
    options.memory_budget = 64 << 10;
    options.batch_rows = Some(1000);
    let outcome = ingest(f.home(), &csv, &options).await.unwrap();
    assert_eq!(outcome.rows_written, 20_000);
    assert_eq!(f.read("big").await.num_rows(), 20_000);
    assert!(
        std::fs::read_dir(f.home().join("tmp"))
            .unwrap()
            .next()
            .is_none(),
        "scratch files are removed"
    );
}

#[tokio::test]
async fn parallel_writer_parts_store_what_one_part_stores() {
    // Forward fill and smoothing carry state from batch to batch, so a part that starts mid-file must
    // begin with the cleaner as it stood there; spilled and in-memory parts must agree.
    let f = Fixture::new();
    let mut text = String::from("i,x\n");
    for i in 0..20_000 {
        if i % 7 == 3 {
            text.push_str(&format!("{i},\n"));
        } else {
            text.push_str(&format!("{i},{}\n", (i as f64 * 0.01).sin()));
        }
    }
    let csv = f.file("state.csv", text);
    let config = "[defaults]\nmissing = \"ffill\"\n[columns.x]\nsmooth = \"ewma\"\nalpha = 0.2\n";
    let sorted_by_i = |batch: RecordBatch| {
        let i = batch.column(0).as_primitive::<Int64Type>().clone();
        let x = batch.column(1).as_primitive::<Float64Type>().clone();
        let mut rows: Vec<(i64, Option<f64>)> = i.iter().flatten().zip(x.iter()).collect();
        rows.sort_by_key(|r| r.0);
        rows
    };
    let mut one = IngestOptions::new("one", WriteMode::Create);
    one.clean = toml::from_str::<CleanConfig>(config).unwrap();
    ingest(f.home(), &csv, &one).await.unwrap();
    let mut parts = IngestOptions::new("parts", WriteMode::Create);
    parts.clean = one.clean.clone();
    parts.batch_rows = Some(1000);
    parts.memory_budget = 64 << 10;
    ingest(f.home(), &csv, &parts).await.unwrap();
    let mut in_memory = IngestOptions::new("in_memory", WriteMode::Create);
    in_memory.clean = one.clean.clone();
    in_memory.batch_rows = Some(1000);
    ingest(f.home(), &csv, &in_memory).await.unwrap();

    let expected = sorted_by_i(f.read("one").await);
    assert_eq!(expected.len(), 20_000);
    assert!(
        expected.iter().all(|(_, x)| x.is_some()),
        "every gap filled"
    );
    assert_eq!(sorted_by_i(f.read("parts").await), expected);
    assert_eq!(sorted_by_i(f.read("in_memory").await), expected);
    let files = |name: &str| {
        std::fs::read_dir(f.home().join("lake").join(name))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "parquet")
            })
            .count()
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    assert_eq!(files("parts"), cores.min(20), "one file per writer part");
}

/// 2^53 + 1 has no f64: integer cells must not pass through one, and bounds must compare them exactly.
#[tokio::test]
async fn integer_cleaning_is_exact_above_two_to_the_53() {
    let f = Fixture::new();
    let big = 9_007_199_254_740_993_i64;
    let csv = f.file(
        "ints.csv",
        format!("id,count,limited\n1,{big},5\n2,-7,{big}\n3,,1\n"),
    );
    // `count`: one value clipped and one filled, so the column is rebuilt; `big` must survive unchanged.
    // `limited`: 2^53 is the bound, and 2^53 + 1 is above it (as an f64 it would equal it).
    let config = format!(
        r#"
        [defaults]
        outliers = "none"
        [columns.count]
        min = 0
        bounds_action = "clip"
        missing = "constant"
        fill = {big}
        [columns.limited]
        max = 9007199254740992
        bounds_action = "drop"
    "#
    );
    f.ingest("ints", &csv, WriteMode::Create, &config)
        .await
        .unwrap();
    let batch = f.read("ints").await;
    let column = |name: &str| -> Vec<Option<i64>> {
        let index = batch.schema().index_of(name).unwrap();
        batch
            .column(index)
            .as_primitive::<Int64Type>()
            .iter()
            .collect()
    };
    assert_eq!(
        column("id"),
        vec![Some(1), Some(3)],
        "row 2 is above the bound"
    );
    assert_eq!(column("count"), vec![Some(big), Some(big)]);
    assert_eq!(f.quarantined("ints"), 1);

    let g = Fixture::new();
    let csv = g.file("clip.csv", format!("n\n{big}\n-3\n"));
    g.ingest(
        "clip",
        &csv,
        WriteMode::Create,
        "[defaults]\noutliers = \"none\"\n[columns.n]\nmin = 0\nbounds_action = \"clip\"\n",
    )
    .await
    .unwrap();
    let batch = g.read("clip").await;
    let n: Vec<i64> = batch
        .column(0)
        .as_primitive::<Int64Type>()
        .values()
        .to_vec();
    assert_eq!(n, vec![big, 0]);
}

/// Every ingest leaves `<dataset>__quarantine` queryable, empty when nothing was ever rejected.
#[tokio::test]
async fn the_quarantine_table_exists_after_every_ingest() {
    use millwright_data::sql::query;
    let f = Fixture::new();
    let clean = f.file("clean.csv", "id,v\n1,1.5\n2,2.5\n");
    let bad = f.file("bad.csv", "id,v\n3,x\n4,4.5\n");
    let lake = Lake::open(f.home()).unwrap();
    let count = |sql: &'static str| {
        let lake = &lake;
        async move {
            let batches = query(lake, sql).await.unwrap().collect().await.unwrap();
            let schema_width = batches
                .first()
                .map(millwright_data::arrow::array::RecordBatch::num_columns);
            (
                batches
                    .iter()
                    .map(millwright_data::arrow::array::RecordBatch::num_rows)
                    .sum::<usize>(),
                schema_width,
            )
        }
    };
    for (dataset, mode) in [("c", WriteMode::Create), ("o", WriteMode::Overwrite)] {
        let mut options = IngestOptions::new(dataset, mode);
        options.clean = CleanConfig::default();
        let outcome = ingest(f.home(), &clean, &options).await.unwrap();
        assert_eq!(outcome.quarantine_version, None);
        assert!(lake.exists(&Lake::quarantine_name(dataset)), "{dataset}");
    }
    let frame = query(&lake, "SELECT * FROM c__quarantine").await.unwrap();
    assert_eq!(
        frame.schema().fields().len(),
        8,
        "the usual quarantine schema"
    );
    assert_eq!(count("SELECT * FROM c__quarantine").await.0, 0);

    let mut append = IngestOptions::new("c", WriteMode::Append);
    append.clean = toml::from_str("[columns.v]\nkind = \"float\"\n").unwrap();
    let outcome = ingest(f.home(), &bad, &append).await.unwrap();
    assert_eq!(
        (outcome.rows_quarantined, outcome.quarantine_version),
        (1, Some(1))
    );
    let (rows, _) = count("SELECT line, reason FROM c__quarantine").await;
    assert_eq!(rows, 1);
    let outcome = ingest(f.home(), &clean, &append).await.unwrap();
    assert_eq!(
        outcome.quarantine_version, None,
        "a clean append adds no commit"
    );
    assert_eq!(lake.latest_version("c__quarantine").unwrap(), 1);
}

#[tokio::test]
async fn inputs_that_are_not_files_say_what_is_wrong() {
    let f = Fixture::new();
    let options = IngestOptions::new("x", WriteMode::Create);
    let folder = f.dir.path().join("exports");
    std::fs::create_dir(&folder).unwrap();
    let err = ingest(f.home(), &folder, &options).await.unwrap_err();
    assert!(matches!(err, DataError::InputIsDirectory { .. }), "{err}");
    assert!(err.to_string().contains("is a directory"), "{err}");
    let err = ingest(f.home(), &f.dir.path().join("nope.csv"), &options)
        .await
        .unwrap_err();
    assert!(matches!(err, DataError::InputMissing { .. }), "{err}");
    assert!(err.to_string().contains(".parquet"), "{err}");
    let bare = f.file("readings", "a\n1\n");
    let err = ingest(f.home(), &bare, &options).await.unwrap_err();
    assert!(err.to_string().contains("no extension"), "{err}");
    assert!(err.to_string().contains(".csv"), "{err}");
}

/// The stages are reported in order through the options' progress handle, reading in bytes of the file.
#[tokio::test]
async fn ingest_reports_its_stages() {
    use millwright_core::{Progress, ProgressHandle, Unit};
    use std::sync::{Arc, Mutex};
    /// Each stage: name, total, unit and the last count reported.
    type Stages = Vec<(String, Option<u64>, Unit, u64)>;
    #[derive(Default)]
    struct Log(Mutex<Stages>);
    impl Progress for Log {
        fn stage(&self, name: &str, total: Option<u64>, unit: Unit) {
            self.0.lock().unwrap().push((name.into(), total, unit, 0));
        }
        fn advance(&self, done: u64) {
            let mut stages = self.0.lock().unwrap();
            let current = stages.last_mut().expect("advance within a stage");
            current.3 = current.3.max(done);
        }
    }
    let f = Fixture::new();
    let text = "id,v\n1,1.5\n2,x\n3,3.5\n";
    let csv = f.file("p.csv", text);
    let log = Arc::new(Log::default());
    let mut options = IngestOptions::new("p", WriteMode::Create);
    options.progress = ProgressHandle::new(log.clone());
    options.clean = toml::from_str("[columns.v]\nkind = \"float\"\n").unwrap();
    ingest(f.home(), &csv, &options).await.unwrap();
    let stages = log.0.lock().unwrap().clone();
    let bytes = text.len() as u64;
    assert_eq!(
        stages,
        vec![
            ("reading".into(), Some(bytes), Unit::Bytes, bytes),
            ("cleaning".into(), Some(2), Unit::Rows, 2),
            ("writing".into(), Some(2), Unit::Rows, 2),
            ("committing".into(), Some(1), Unit::Rows, 0),
        ]
    );
}

/// Deletes racing appends: each delete is refused while an append runs or takes a whole table, and each
/// append either commits into the table it opened or creates a new one; no commit is lost or torn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_racing_appends_lose_no_commit() {
    let f = Fixture::new();
    let mut text = String::from("id,value\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},{}\n", i % 97));
    }
    let csv = f.file("rows.csv", text);
    f.ingest("racy", &csv, WriteMode::Create, "").await.unwrap();
    let home = f.home().to_owned();
    let deleter = tokio::task::spawn_blocking(move || {
        let lake = Lake::open(&home).unwrap();
        let (mut busy, mut deleted) = (0, Vec::new());
        for _ in 0..2_000 {
            match lake.delete_dataset("racy", "test") {
                Ok(entry) => deleted.push(entry),
                Err(DataError::DatasetBusy { .. }) => busy += 1,
                Err(DataError::NoSuchDataset { .. }) => {}
                Err(e) => panic!("a delete failed uncleanly: {e}"),
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        (busy, deleted)
    });
    let mut committed = Vec::new();
    for _ in 0..6 {
        let version = f
            .ingest("racy", &csv, WriteMode::Append, "")
            .await
            .expect("an append fails only cleanly, and here it has no reason to");
        committed.push(version);
    }
    let (busy, deleted) = deleter.await.unwrap();
    // Every table version there is, in the lake or in the trash, reads whole.
    let lake = Lake::open(f.home()).unwrap();
    let mut tables: Vec<i64> = deleted.iter().map(|d| d.latest_version).collect();
    if lake.exists("racy") {
        let (table, version) = lake.read_table("racy", None).await.unwrap();
        let rows: usize = table.batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(rows as i64, 20_000 * (version + 1), "a torn table");
        tables.push(version);
    }
    // Each append's commit is the newest version of some table: one version per table holds it.
    let total_versions: i64 = tables.iter().map(|v| v + 1).sum();
    assert_eq!(
        total_versions,
        1 + committed.len() as i64,
        "commits {committed:?}, tables {tables:?}, refused {busy}"
    );
    // And each table in the trash comes back readable.
    for entry in &deleted {
        if !lake.exists("racy") {
            lake.restore_dataset(&entry.id).unwrap();
            let (table, version) = lake.read_table("racy", None).await.unwrap();
            let rows: usize = table.batches.iter().map(RecordBatch::num_rows).sum();
            assert_eq!(
                rows as i64,
                20_000 * (version + 1),
                "a torn table in the trash"
            );
            assert_eq!(version, entry.latest_version);
        }
    }
}
