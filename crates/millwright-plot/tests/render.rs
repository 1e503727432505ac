//! One chart, drawn by one `draw`, comes out as a decodable, drawn PNG and as an SVG carrying its text.

use std::path::Path;

use millwright_plot::plotters::prelude::*;
use millwright_plot::style::{self, CiPoint};
use millwright_plot::{
    render_files, render_png, svg_string, Backend, Chart, DrawResult, PlotError, Shift,
};

struct Sample;

impl Chart for Sample {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let mut chart =
            style::frame(root, "cost by threshold", 20).build_cartesian_2d(0.0..1.0, 0.0..2.0)?;
        chart
            .configure_mesh()
            .light_line_style(style::FAINT)
            .x_desc("threshold")
            .draw()?;
        let points: Vec<CiPoint> = (0..=10)
            .map(|i| {
                let x = f64::from(i) / 10.0;
                CiPoint {
                    x,
                    mean: 1.0 + (x - 0.4).powi(2),
                    low: 0.9 + (x - 0.4).powi(2),
                    high: 1.1 + (x - 0.4).powi(2),
                }
            })
            .collect();
        style::ci_band(&mut chart, &points, style::series_color(0))?;
        chart
            .draw_series(std::iter::once(style::whisker(0.4, 0.8, 1.0, 1.2)))?
            .label("optimum")
            .legend(style::legend_line(style::CHOSEN.stroke_width(2)));
        style::legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

/// Width, height and number of distinct colours of a PNG.
fn decode_png(path: &Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let colours: std::collections::HashSet<&[u8]> =
        buf[..info.buffer_size()].chunks(step).collect();
    (info.width, info.height, colours.len())
}

fn svg_text(svg: &str) -> String {
    let doc = roxmltree::Document::parse(svg).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn one_chart_renders_to_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let files = render_files(&Sample, &dir.path().join("nested/cost"), (640, 400)).unwrap();
    assert_eq!(files.png, dir.path().join("nested/cost.png"));
    assert_eq!(files.svg, dir.path().join("nested/cost.svg"));
    let (w, h, colours) = decode_png(&files.png);
    assert_eq!((w, h), (640, 400));
    // Anti-aliased text, axes, band and line: a blank or one-colour image is a failure.
    assert!(colours > 20, "only {colours} colours");
    let text = svg_text(&std::fs::read_to_string(&files.svg).unwrap());
    for word in ["cost by threshold", "threshold", "optimum"] {
        assert!(text.contains(word), "{word} missing from {text}");
    }
    let inline = svg_string(&Sample, (640, 400)).unwrap();
    assert!(inline.contains("width=\"640\""), "{inline}");
    assert!(svg_text(&inline).contains("cost by threshold"));
}

struct Refuses;

impl Chart for Refuses {
    fn draw<DB: Backend>(&self, _root: &DrawingArea<DB, Shift>) -> DrawResult {
        Err("the chart refused its data".into())
    }
}

#[test]
fn drawing_errors_name_the_file_and_keep_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    let err = render_files(&Refuses, &dir.path().join("refused"), (100, 100)).unwrap_err();
    let PlotError::Draw { target, source } = &err else {
        panic!("{err:?}")
    };
    assert!(target.ends_with("refused.png"), "{target}");
    assert_eq!(source.to_string(), "the chart refused its data");
    // plotters' own error (here: the PNG's folder does not exist) is the source, not flattened text.
    let missing = dir.path().join("no/such/folder/x.png");
    let err = render_png(&Sample, &missing, (100, 100)).unwrap_err();
    let PlotError::Draw { target, source } = &err else {
        panic!("{err:?}")
    };
    assert!(target.ends_with("x.png"), "{target}");
    assert!(
        source.to_string().contains("No such file or directory"),
        "{source:?}"
    );
    assert!(std::error::Error::source(&err).is_some());
}
