//! The sweep's picture: an SVG with two panels against samples / (N ln N):
//! every method's probability of exact recovery (and, for methods that prove
//! it, the probability that the partition is proven unique and the fraction of
//! trials decided before the deadline), and the median solve time on a log scale,
//! a timeout counting as the time limit so that the hardness peak shows. No fonts
//! are needed at run time.

use crate::summary::{aggregate, Cell};
use crate::sweep::{Method, Row};
use partrec_core::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The curves: one per (method, N), in order.
fn series(cells: &[Cell]) -> Vec<(String, u32, Vec<&Cell>)> {
    let mut out: Vec<(String, u32, Vec<&Cell>)> = Vec::new();
    for c in cells {
        match out.last_mut() {
            Some((m, n, v)) if *m == c.method && *n == c.n => v.push(c),
            _ => out.push((c.method.clone(), c.n, vec![c])),
        }
    }
    out
}

type Chart<'a, 'b, X, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>;
type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// One curve: a line with point markers and a legend entry.
fn curve<X, Y>(
    chart: &mut Chart<X, Y>,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    label: String,
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
    chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    Ok(())
}

/// The legend box of a panel.
fn legend<'a, X, Y>(chart: &mut Chart<'a, 'a, X, Y>, position: SeriesLabelPosition) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Draws the two panels for `rows` into the SVG file `path`.
pub fn plot(rows: &[Row], path: &Path) -> Result<()> {
    draw(rows, path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    })
}

fn draw(rows: &[Row], path: &Path) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let cells = aggregate(rows);
    let curves = series(&cells);
    let x_max = cells.iter().map(|c| c.x).fold(0.0, f64::max).max(0.1) * 1.05;
    let root = SVGBackend::new(path, (1200, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(600);

    let mut chart = ChartBuilder::on(&left)
        .caption(
            "Recovery: P(recovered) per method, and P(unique) where proven",
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..x_max, 0.0..1.05)?;
    chart
        .configure_mesh()
        .x_desc("samples / (N ln N)")
        .y_desc("probability")
        .draw()?;
    let mut color = COLORS.iter().cycle();
    for (method, n, cs) in &curves {
        let recovered = cs.iter().map(|c| (c.x, c.p_recovered)).collect();
        let label = format!("{method} N={n}: recovered");
        curve(&mut chart, recovered, *color.next().expect("cycles"), label)?;
        if Method::named_proves_uniqueness(method) {
            let unique = cs.iter().map(|c| (c.x, c.p_unique)).collect();
            let label = format!("{method} N={n}: unique");
            curve(&mut chart, unique, *color.next().expect("cycles"), label)?;
            let decided = cs.iter().map(|c| (c.x, c.p_decided)).collect();
            let label = format!("{method} N={n}: decided");
            curve(&mut chart, decided, *color.next().expect("cycles"), label)?;
        }
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;

    let finite: Vec<f64> = cells
        .iter()
        .map(|c| c.median_s)
        .filter(|s| *s > 0.0)
        .collect();
    let y_min = finite
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .min(1e-3)
        / 2.0;
    let y_max = finite.iter().copied().fold(0.0, f64::max).max(1e-2) * 2.0;
    let mut chart = ChartBuilder::on(&right)
        .caption(
            "Median solve time (a timeout counts as the time limit)",
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, (y_min..y_max).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("samples / (N ln N)")
        .y_desc("seconds (log)")
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()?;
    for (i, (method, n, cs)) in curves.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<(f64, f64)> = cs
            .iter()
            .filter(|c| c.median_s > 0.0)
            .map(|c| (c.x, c.median_s))
            .collect();
        curve(&mut chart, points, color, format!("{method} N={n}"))?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present()?;
    Ok(())
}
