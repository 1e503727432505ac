//! Every plot writes a PNG that decodes to a drawn (not blank) image and an SVG that parses as XML with
//! the expected text; bad data is refused with the plot's name.

use std::path::Path;

use millwright_learn::plots::{self, PlotError, PlotFiles};

/// Decodes the PNG and returns (width, height, number of distinct colours).
fn decode_png(path: &Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let step = info.color_type.samples();
    let colours: std::collections::HashSet<&[u8]> = bytes.chunks(step).collect();
    (info.width, info.height, colours.len())
}

/// Checks both files and returns the SVG's text content (all text nodes joined).
fn check(files: &PlotFiles, min_size: (u32, u32)) -> String {
    let (w, h, colours) = decode_png(&files.png);
    assert!(
        w >= min_size.0 && h >= min_size.1,
        "{}: {w}x{h}",
        files.png.display()
    );
    // Axes, text and data in several colours, anti-aliased: a blank or single-colour image is a failure.
    assert!(
        colours > 20,
        "{}: only {colours} colours",
        files.png.display()
    );
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(
        doc.descendants().count() > 20,
        "{}: almost empty",
        files.svg.display()
    );
    doc.descendants()
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn metric_curves_draw_every_series() {
    let dir = tempfile::tempdir().unwrap();
    let train: Vec<(f64, f64)> = (1..=100).map(|e| (e as f64, 1.0 / e as f64)).collect();
    let mut val: Vec<(f64, f64)> = (1..=100).map(|e| (e as f64, 1.2 / e as f64)).collect();
    val[50].1 = f64::NAN; // a diverged epoch leaves a gap, not an error
    let files = plots::metric_curves(
        "loss per epoch",
        "loss",
        &[("train", &train), ("val", &val)],
        &dir.path().join("sub/loss"),
    )
    .unwrap();
    assert_eq!(files.png, dir.path().join("sub/loss.png"));
    let text = check(&files, (800, 500));
    for word in ["loss per epoch", "train", "val", "epoch"] {
        assert!(text.contains(word), "{word} missing from SVG text: {text}");
    }
}

#[test]
fn roc_and_precision_recall_curves() {
    let dir = tempfile::tempdir().unwrap();
    let roc = [(0.0, 0.0), (0.05, 0.6), (0.2, 0.85), (1.0, 1.0)];
    let text = check(
        &plots::roc_curve(&roc, Some(0.9725), &dir.path().join("roc")).unwrap(),
        (600, 600),
    );
    assert!(text.contains("AUC 0.9725"), "{text}");
    let pr = [(0.0, 1.0), (0.5, 0.9), (0.8, 0.6), (1.0, 0.034)];
    let text = check(
        &plots::precision_recall_curve(&pr, Some(0.71), 0.034, &dir.path().join("pr")).unwrap(),
        (600, 600),
    );
    assert!(
        text.contains("AP 0.7100") && text.contains("recall"),
        "{text}"
    );
}

#[test]
fn confusion_matrix_shows_counts_and_class_names() {
    let dir = tempfile::tempdir().unwrap();
    let counts = vec![vec![1925, 7], vec![25, 43]];
    let text = check(
        &plots::confusion_matrix(&counts, &["ok", "failure"], &dir.path().join("cm")).unwrap(),
        (400, 400),
    );
    for word in ["1925", "43", "ok", "failure", "predicted", "actual"] {
        assert!(text.contains(word), "{word} missing: {text}");
    }
    let three = vec![vec![5, 1, 0], vec![2, 7, 1], vec![0, 0, 9]];
    check(
        &plots::confusion_matrix(&three, &["a", "b", "c"], &dir.path().join("cm3")).unwrap(),
        (400, 400),
    );
}

#[test]
fn calibration_diagram_and_feature_importance() {
    let dir = tempfile::tempdir().unwrap();
    let bins = [
        (0.02, 0.01, 1800),
        (0.15, 0.2, 90),
        (0.45, 0.5, 40),
        (0.85, 0.8, 70),
    ];
    let text = check(
        &plots::calibration_diagram(&bins, &dir.path().join("calibration")).unwrap(),
        (600, 600),
    );
    assert!(text.contains("perfectly calibrated"), "{text}");
    let names = ["torque_nm", "tool_wear_min", "power", "air_temperature_k"];
    let values = [0.12, 0.08, 0.2, -0.001];
    let files = plots::feature_importance(
        &names,
        &values,
        Some(&[0.01, 0.01, 0.02, 0.001]),
        &dir.path().join("importance"),
    )
    .unwrap();
    let text = check(&files, (800, 200));
    assert!(names.iter().all(|n| text.contains(n)), "{text}");
}

#[test]
fn bad_plot_data_is_refused_with_the_plot_name() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("x");
    let err = |r: Result<PlotFiles, PlotError>| r.unwrap_err().to_string();
    assert!(err(plots::roc_curve(&[], None, &stem)).contains("ROC plot: curve has no points"));
    assert!(
        err(plots::roc_curve(&[(0.0, 0.0), (1.5, 1.0)], None, &stem)).contains("outside [0, 1]")
    );
    assert!(
        err(plots::confusion_matrix(&[vec![1, 2]], &["a"], &stem)).contains("row 0 has 2 cells")
    );
    assert!(err(plots::confusion_matrix(
        &[vec![1, 2], vec![3, 4]],
        &["a"],
        &stem
    ))
    .contains("1 class names"));
    assert!(
        err(plots::feature_importance(&["a", "b"], &[1.0], None, &stem))
            .contains("2 names but 1 values")
    );
    assert!(
        err(plots::feature_importance(&["a"], &[f64::NAN], None, &stem))
            .contains("\"a\" has a non-finite")
    );
    let nan = [(1.0, f64::NAN)];
    assert!(err(plots::metric_curves(
        "loss",
        "loss",
        &[("train", &nan)],
        &stem
    ))
    .contains("no finite point"));
    assert!(
        !stem.with_extension("png").exists(),
        "nothing is written for refused data"
    );
}
