//! The sweep's picture: an SVG with four panels against samples / (N ln N), one
//! curve per (method, N) in each, and the legend beside them, outside every panel:
//!
//! - P(recovered): the fraction of trials whose partition is the planted one;
//! - median solve time on a log scale, a timeout counting as the time limit so that
//!   the hardness peak shows; an open triangle on the limit line marks every ratio
//!   where trials timed out, and the legend says how many per curve;
//! - P(unique): the fraction of trials proven unique (methods that prove it);
//! - decided: the fraction of trials that ended before the deadline (the same methods).
//!
//! Each curve has its own colour (Okabe-Ito, readable by colour-blind readers), marker
//! and dash, so the curves stay apart in greyscale. The SVG is plain text: no fonts
//! are needed to write it.

use crate::summary::{aggregate, Cell};
use crate::sweep::{Method, Row};
use partrec_core::error::Result;
use partrec_core::io::output::write_file;
use std::fmt::Write as _;
use std::path::Path;

/// The Okabe-Ito colours, darkest and most distinct first (their yellow, too pale on
/// white, is left out).
const COLORS: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#E69F00", "#56B4E9",
];

/// Marker shapes, centred on (0, 0): (id, path, filled). The open triangle is kept for
/// timeouts.
const MARKERS: [(&str, &str, bool); 7] = [
    (
        "m-circle",
        "M-4.5,0a4.5,4.5 0 1,0 9,0a4.5,4.5 0 1,0 -9,0z",
        true,
    ),
    ("m-square", "M-4,-4h8v8h-8z", true),
    ("m-diamond", "M0,-5.5L5.5,0L0,5.5L-5.5,0z", true),
    ("m-down", "M-5,-3.5h10L0,5z", true),
    ("m-cross", "M-4,-4L4,4M-4,4L4,-4", false),
    ("m-plus", "M-5,0h10M0,-5v10", false),
    (
        "m-star",
        "M0,-6L1.5,-2L5.7,-1.9L2.4,0.8L3.5,4.9L0,2.5L-3.5,4.9L-2.4,0.8L-5.7,-1.9L-1.5,-2z",
        true,
    ),
];

/// The timeout marker: an open triangle pointing up (the time is at least the limit).
const TIMEOUT: (&str, &str) = ("m-timeout", "M0,-6L5.5,4H-5.5z");

/// Dash patterns (`stroke-dasharray`; empty for a solid line).
const DASHES: [&str; 7] = ["", "9 4", "2 3", "10 3 2 3", "5 5", "14 3 3 3 3 3", "1 2"];

/// Figure geometry, in SVG pixels.
const PANEL_W: f64 = 490.0;
const PANEL_H: f64 = 320.0;
const MARGIN_LEFT: f64 = 74.0;
const MARGIN_TOP: f64 = 48.0;
const DATA_W: f64 = 396.0;
const DATA_H: f64 = 218.0;
const LEGEND_X: f64 = 2.0 * PANEL_W + 10.0;
const LEGEND_W: f64 = 250.0;
const LEGEND_ROW: f64 = 40.0;
const WIDTH: f64 = LEGEND_X + LEGEND_W + 10.0;

/// The look of one curve: a colour, a marker and a dash, all three distinct between
/// curves up to 7 curves, and the combination distinct up to 49.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Style {
    color: &'static str,
    marker: usize,
    dash: &'static str,
}

impl Style {
    /// The curve's own (filled) marker at `(x, y)`.
    fn mark(self, svg: &mut String, x: f64, y: f64, tag: &str) {
        marker(svg, MARKERS[self.marker].0, x, y, self.color, false, tag);
    }

    /// The style of curve `i`.
    fn of(i: usize) -> Style {
        let round = i / COLORS.len();
        Style {
            color: COLORS[i % COLORS.len()],
            marker: (i + round) % MARKERS.len(),
            dash: DASHES[(i + 2 * round) % DASHES.len()],
        }
    }
}

/// One curve: the cells of one (method, N), in ratio order.
struct Series<'a> {
    label: String,
    proves: bool,
    cells: Vec<&'a Cell>,
    style: Style,
    /// Horizontal offset in pixels, so that curves lying on one another stay visible.
    dodge: f64,
}

impl Series<'_> {
    fn timeouts(&self) -> usize {
        self.cells.iter().map(|c| c.timeouts).sum()
    }

    fn trials(&self) -> usize {
        self.cells.iter().map(|c| c.trials).sum()
    }
}

/// The curves: one per (method, N), in order.
fn series(cells: &[Cell]) -> Vec<Series<'_>> {
    let mut groups: Vec<Vec<&Cell>> = Vec::new();
    for c in cells {
        match groups.last_mut() {
            Some(g) if g[0].method == c.method && g[0].n == c.n => g.push(c),
            _ => groups.push(vec![c]),
        }
    }
    let k = groups.len();
    let step = if k > 1 {
        (18.0 / (k - 1) as f64).min(4.0)
    } else {
        0.0
    };
    groups
        .into_iter()
        .enumerate()
        .map(|(i, cells)| Series {
            label: format!("{} N={}", cells[0].method, cells[0].n),
            proves: Method::named_proves_uniqueness(&cells[0].method),
            style: Style::of(i),
            dodge: (i as f64 - (k as f64 - 1.0) / 2.0) * step,
            cells,
        })
        .collect()
}

/// An axis scale onto [0, 1].
#[derive(Clone, Copy, Debug)]
enum Scale {
    Linear(f64, f64),
    Log(f64, f64),
}

impl Scale {
    /// Where `v` falls, 0 at the low end and 1 at the high end.
    fn frac(self, v: f64) -> f64 {
        match self {
            Scale::Linear(lo, hi) => (v - lo) / (hi - lo),
            Scale::Log(lo, hi) => (v.ln() - lo.ln()) / (hi.ln() - lo.ln()),
        }
    }
}

/// The x scale: logarithmic when the ratios span a factor of 6 or more (doubling
/// ratios then sit evenly apart), linear from 0 otherwise.
fn x_scale(cells: &[Cell]) -> Scale {
    let lo = cells.iter().map(|c| c.x).fold(f64::INFINITY, f64::min);
    let hi = cells.iter().map(|c| c.x).fold(0.0, f64::max);
    if lo > 0.0 && hi / lo >= 6.0 {
        Scale::Log(lo / 1.3, hi * 1.3)
    } else {
        Scale::Linear(0.0, if hi > 0.0 { hi * 1.06 } else { 1.0 })
    }
}

/// A panel's data area and scales.
#[derive(Clone, Copy, Debug)]
struct Panel {
    name: &'static str,
    left: f64,
    top: f64,
    x: Scale,
    y: Scale,
}

impl Panel {
    /// A panel in grid cell (column, row).
    fn at(name: &'static str, column: f64, row: f64, x: Scale, y: Scale) -> Panel {
        Panel {
            name,
            left: column * PANEL_W + MARGIN_LEFT,
            top: row * PANEL_H + MARGIN_TOP,
            x,
            y,
        }
    }

    /// The pixel of data point (x, y).
    fn px(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.left + self.x.frac(x) * DATA_W,
            self.top + (1.0 - self.y.frac(y)) * DATA_H,
        )
    }
}

/// `text` with the XML special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A text element (`anchor`: start, middle or end).
fn text(svg: &mut String, x: f64, y: f64, size: f64, anchor: &str, fill: &str, body: &str) {
    let _ = writeln!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" font-family="sans-serif" font-size="{size}" text-anchor="{anchor}" fill="{fill}">{}</text>"#,
        escape(body)
    );
}

/// A marker `id` at (x, y) in `color`, filled in white when `open`.
fn marker(svg: &mut String, id: &str, x: f64, y: f64, color: &str, open: bool, tag: &str) {
    let fill = if open { "#FFFFFF" } else { color };
    let _ = writeln!(
        svg,
        r##"<use xlink:href="#{id}" x="{x:.1}" y="{y:.1}" fill="{fill}" stroke="{color}" stroke-width="1.5" {tag}/>"##
    );
}

/// A line through `points` in a curve's style.
fn line(svg: &mut String, points: &[(f64, f64)], style: Style, tag: &str) {
    if points.is_empty() {
        return;
    }
    let pts: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let dash = if style.dash.is_empty() {
        String::new()
    } else {
        format!(r#" stroke-dasharray="{}""#, style.dash)
    };
    let _ = writeln!(
        svg,
        r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash} {tag}/>"#,
        pts.join(" "),
        style.color
    );
}

/// `data-` attributes naming a curve and its panel.
fn tag(series: &str, panel: &str) -> String {
    format!(r#"data-series="{}" data-panel="{panel}""#, escape(series))
}

/// A tick label: up to three significant digits, no trailing zeros.
fn number(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A duration tick label.
fn duration(s: f64) -> String {
    if s >= 1e4 {
        format!("{s:.0e} s")
    } else if s >= 1.0 {
        format!("{} s", number(s))
    } else {
        format!("{} ms", number(s * 1e3))
    }
}

/// The frame of a panel: caption, note, grid, ticks, axis titles, and the data area.
fn frame(
    svg: &mut String,
    p: &Panel,
    caption: &str,
    note: &str,
    x_ticks: &[f64],
    y_ticks: &[(f64, String)],
    y_title: &str,
) {
    let (l, t) = (p.left, p.top);
    text(svg, l, t - 28.0, 15.0, "start", "#000000", caption);
    text(svg, l, t - 12.0, 11.5, "start", "#555555", note);
    let _ = writeln!(
        svg,
        r##"<rect class="data-area" data-panel="{}" x="{l:.1}" y="{t:.1}" width="{DATA_W}" height="{DATA_H}" fill="#FFFFFF" stroke="#444444"/>"##,
        p.name
    );
    let mut last = f64::NEG_INFINITY;
    for &x in x_ticks {
        let (px, _) = p.px(x, 0.5);
        if !(l..=l + DATA_W).contains(&px) {
            continue;
        }
        let _ = writeln!(
            svg,
            r##"<line x1="{px:.1}" y1="{t:.1}" x2="{px:.1}" y2="{:.1}" stroke="#E3E3E3"/>"##,
            t + DATA_H
        );
        if px - last >= 26.0 {
            text(
                svg,
                px,
                t + DATA_H + 16.0,
                12.0,
                "middle",
                "#222222",
                &number(x),
            );
            last = px;
        }
    }
    for (y, label) in y_ticks {
        let (_, py) = p.px(1.0, *y);
        let _ = writeln!(
            svg,
            r##"<line x1="{l:.1}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#E3E3E3"/>"##,
            l + DATA_W
        );
        text(svg, l - 6.0, py + 4.0, 12.0, "end", "#222222", label);
    }
    text(
        svg,
        l + DATA_W / 2.0,
        t + DATA_H + 36.0,
        12.5,
        "middle",
        "#000000",
        "samples / (N ln N)",
    );
    let (yx, yy) = (l - 56.0, t + DATA_H / 2.0);
    let _ = writeln!(
        svg,
        r#"<text x="{yx:.1}" y="{yy:.1}" font-family="sans-serif" font-size="12.5" text-anchor="middle" transform="rotate(-90 {yx:.1} {yy:.1})">{y_title}</text>"#
    );
}

/// A probability panel: one curve per series that `applies`, of `metric`.
fn probability_panel(
    svg: &mut String,
    p: &Panel,
    all: &[Series],
    metric: fn(&Cell) -> f64,
    applies: fn(&Series) -> bool,
    x_ticks: &[f64],
    (caption, note): (&str, &str),
) {
    let ticks: Vec<(f64, String)> = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|&v| (v, number(v)))
        .collect();
    frame(svg, p, caption, note, x_ticks, &ticks, "fraction of trials");
    let shown: Vec<&Series> = all.iter().filter(|s| applies(s)).collect();
    if shown.is_empty() {
        text(
            svg,
            p.left + DATA_W / 2.0,
            p.top + DATA_H / 2.0,
            13.0,
            "middle",
            "#555555",
            "no method here proves uniqueness",
        );
    }
    for s in shown {
        let points: Vec<(f64, f64)> = s
            .cells
            .iter()
            .map(|c| {
                let (x, y) = p.px(c.x, metric(c));
                (x + s.dodge, y)
            })
            .collect();
        let tag = tag(&s.label, p.name);
        line(svg, &points, s.style, &tag);
        for &(x, y) in &points {
            s.style.mark(svg, x, y, &tag);
        }
    }
}

/// The time panel: median seconds per series on a log scale; at every ratio where
/// trials timed out, an open triangle on the limit line (the median itself is drawn
/// there when it timed out).
fn time_panel(svg: &mut String, rows: &[Row], all: &[Series], x: Scale, x_ticks: &[f64]) {
    let limit = rows
        .iter()
        .filter(|r| r.timed_out)
        .map(|r| r.seconds)
        .fold(0.0, f64::max);
    let times = all
        .iter()
        .flat_map(|s| s.cells.iter().map(|c| c.median_s))
        .chain((limit > 0.0).then_some(limit))
        .filter(|&s| s > 0.0 && s.is_finite());
    let (lo, hi) = times.fold((f64::INFINITY, 0.0), |(lo, hi), s| (s.min(lo), s.max(hi)));
    // Whole decades of normal doubles (a row file may hold any finite time), at most
    // nine labelled.
    let (low, high) = if hi > 0.0 {
        let low = (lo.log10().floor() as i32).clamp(-307, 307);
        (low, (hi.log10().ceil() as i32).clamp(low + 1, 308))
    } else {
        (-3, 0)
    };
    let (lo, hi) = (10f64.powi(low), 10f64.powi(high));
    let step = (high - low).unsigned_abs().div_ceil(8) as usize;
    let ticks: Vec<(f64, String)> = (low..=high)
        .step_by(step)
        .map(|k| (10f64.powi(k), duration(10f64.powi(k))))
        .collect();
    let p = Panel::at("time", 1.0, 0.0, x, Scale::Log(lo, hi));
    let (timeouts, trials) = all
        .iter()
        .fold((0, 0), |(o, n), s| (o + s.timeouts(), n + s.trials()));
    let note =
        format!("a timed-out trial counts as the limit; timed out: {timeouts} of {trials} trials");
    frame(
        svg,
        &p,
        "Median solve time",
        &note,
        x_ticks,
        &ticks,
        "seconds (log scale)",
    );
    // A timed-out trial of 0 s (possible in an edited row file) puts the line at the bottom.
    let limit_y = rows
        .iter()
        .any(|r| r.timed_out)
        .then(|| p.px(1.0, limit.max(lo)).1);
    if let Some(y) = limit_y {
        let _ = writeln!(
            svg,
            r##"<line class="limit" x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#777777" stroke-width="1.5" stroke-dasharray="6 4"/>"##,
            p.left,
            p.left + DATA_W
        );
    }
    for s in all {
        let tag = tag(&s.label, p.name);
        let points: Vec<(f64, f64, &Cell)> = s
            .cells
            .iter()
            .filter(|c| c.median_s > 0.0)
            .map(|c| {
                let (x, y) = p.px(c.x, c.median_s);
                (x + s.dodge, y, *c)
            })
            .collect();
        let path: Vec<(f64, f64)> = points.iter().map(|&(x, y, _)| (x, y)).collect();
        line(svg, &path, s.style, &tag);
        for &(x, y, c) in &points {
            if !c.median_censored {
                s.style.mark(svg, x, y, &tag);
            }
        }
        for c in s.cells.iter().filter(|c| c.timeouts > 0) {
            if let Some(y) = limit_y {
                let (x, _) = p.px(c.x, lo);
                marker(svg, TIMEOUT.0, x + s.dodge, y, s.style.color, true, &tag);
            }
        }
    }
}

/// The legend, beside the panels: one entry per series (its line, marker, label and
/// timeouts), then, if any trial timed out, the timeout marker and the limit line.
/// Returns its bottom edge.
fn legend(svg: &mut String, all: &[Series]) -> f64 {
    let (l, t) = (LEGEND_X, MARGIN_TOP - 28.0);
    let timeouts = all.iter().any(|s| s.timeouts() > 0);
    let height = 36.0 + LEGEND_ROW * all.len() as f64 + if timeouts { 62.0 } else { 8.0 };
    let _ = writeln!(
        svg,
        r##"<rect class="legend-box" x="{l:.1}" y="{t:.1}" width="{LEGEND_W}" height="{height:.1}" fill="#FFFFFF" stroke="#444444"/>"##
    );
    text(
        svg,
        l + 12.0,
        t + 22.0,
        14.0,
        "start",
        "#000000",
        "Curves (method, N)",
    );
    for (i, s) in all.iter().enumerate() {
        let y = t + 36.0 + LEGEND_ROW * i as f64 + 14.0;
        let tag = tag(&s.label, "legend");
        line(svg, &[(l + 12.0, y), (l + 52.0, y)], s.style, &tag);
        s.style.mark(svg, l + 32.0, y, &tag);
        text(svg, l + 62.0, y + 5.0, 13.0, "start", "#000000", &s.label);
        let note = format!("timed out: {} of {}", s.timeouts(), s.trials());
        text(svg, l + 62.0, y + 20.0, 11.5, "start", "#555555", &note);
    }
    if !timeouts {
        return t + height;
    }
    let y = t + 36.0 + LEGEND_ROW * all.len() as f64 + 10.0;
    marker(
        svg,
        TIMEOUT.0,
        l + 32.0,
        y,
        "#444444",
        true,
        r#"data-panel="legend""#,
    );
    text(
        svg,
        l + 62.0,
        y + 5.0,
        12.0,
        "start",
        "#000000",
        "trials timed out here",
    );
    let _ = writeln!(
        svg,
        r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#777777" stroke-width="1.5" stroke-dasharray="6 4"/>"##,
        l + 12.0,
        y + 26.0,
        l + 52.0,
        y + 26.0
    );
    text(
        svg,
        l + 62.0,
        y + 31.0,
        12.0,
        "start",
        "#000000",
        "time limit",
    );
    t + height
}

/// The SVG text of the four panels and the legend for `rows`.
pub fn svg(rows: &[Row]) -> String {
    let cells = aggregate(rows);
    let all = series(&cells);
    let x = x_scale(&cells);
    let mut x_ticks: Vec<f64> = cells.iter().map(|c| c.ratio).collect();
    x_ticks.sort_by(f64::total_cmp);
    x_ticks.dedup();
    let mut body = String::new();
    let probability = Scale::Linear(-0.05, 1.05);
    probability_panel(
        &mut body,
        &Panel::at("recovered", 0.0, 0.0, x, probability),
        &all,
        |c| c.p_recovered,
        |_| true,
        &x_ticks,
        (
            "Recovered",
            "fraction of trials whose partition is the planted one",
        ),
    );
    time_panel(&mut body, rows, &all, x, &x_ticks);
    probability_panel(
        &mut body,
        &Panel::at("unique", 0.0, 1.0, x, probability),
        &all,
        |c| c.p_unique,
        |s| s.proves,
        &x_ticks,
        (
            "Proven unique",
            "fraction of trials proven to have one consistent partition",
        ),
    );
    probability_panel(
        &mut body,
        &Panel::at("decided", 1.0, 1.0, x, probability),
        &all,
        |c| c.p_decided,
        |s| s.proves,
        &x_ticks,
        (
            "Decided",
            "fraction of trials that ended before the time limit",
        ),
    );
    let height = legend(&mut body, &all).max(2.0 * PANEL_H) + 10.0;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">
<rect width="100%" height="100%" fill="#FFFFFF"/>
<defs>
"##
    );
    for (id, d, filled) in MARKERS {
        let fill = if filled {
            ""
        } else {
            r#" fill="none" stroke-width="2""#
        };
        let _ = writeln!(svg, r#"<path id="{id}" d="{d}"{fill}/>"#);
    }
    let _ = writeln!(svg, r#"<path id="{}" d="{}"/>"#, TIMEOUT.0, TIMEOUT.1);
    svg.push_str("</defs>\n");
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

/// Writes the SVG of `rows` ([`svg`]) to `path`, atomically.
pub fn plot(rows: &[Row], path: &Path) -> Result<()> {
    let text = svg(rows);
    write_file(path, |w| w.write_all(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::tests::row;
    use std::collections::{HashMap, HashSet};

    type Element = (String, HashMap<String, String>);

    /// The start tags of an SVG: (name, attributes), in order.
    fn elements(svg: &str) -> Vec<Element> {
        svg.split('<')
            .skip(1)
            .filter(|t| !t.starts_with('/'))
            .map(|t| {
                let t = t.split('>').next().unwrap().trim_end_matches('/');
                let (name, mut rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
                let mut attrs = HashMap::new();
                while let Some((k, v)) = rest.split_once("=\"") {
                    let (value, tail) = v.split_once('"').unwrap();
                    attrs.insert(k.trim().to_string(), value.to_string());
                    rest = tail;
                }
                (name.to_string(), attrs)
            })
            .collect()
    }

    fn num(e: &Element, key: &str) -> f64 {
        e.1[key].parse().unwrap()
    }

    /// (left, top, right, bottom) of a rect.
    fn bounds(e: &Element) -> (f64, f64, f64, f64) {
        let (x, y) = (num(e, "x"), num(e, "y"));
        (x, y, x + num(e, "width"), y + num(e, "height"))
    }

    fn inside((x, y): (f64, f64), (l, t, r, b): (f64, f64, f64, f64)) -> bool {
        (l..=r).contains(&x) && (t..=b).contains(&y)
    }

    fn intersect(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
        a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
    }

    fn attr<'a>(e: &'a Element, key: &str) -> Option<&'a str> {
        e.1.get(key).map(String::as_str)
    }

    /// The elements drawn for `series` in `panel`.
    fn drawn<'a>(all: &'a [Element], series: &str, panel: &str) -> Vec<&'a Element> {
        all.iter()
            .filter(|e| {
                attr(e, "data-series") == Some(series) && attr(e, "data-panel") == Some(panel)
            })
            .collect()
    }

    /// The data area of `panel`.
    fn area(all: &[Element], panel: &str) -> (f64, f64, f64, f64) {
        let areas: Vec<&Element> = all
            .iter()
            .filter(|e| {
                attr(e, "class") == Some("data-area") && attr(e, "data-panel") == Some(panel)
            })
            .collect();
        assert_eq!(areas.len(), 1, "one data area for {panel}");
        bounds(areas[0])
    }

    const SERIES: [&str; 4] = ["gd N=100", "sat N=100", "sat N=200", "sat N=400"];

    /// Three trials at ratios 1, 2 and 4: `sat` at N = 100, 200 and 400, `gd` at N = 100.
    /// At N = 400, 2 of 3 trials time out (60 s) at ratio 1, 1 of 3 at ratio 2.
    fn rows() -> Vec<Row> {
        let mut rows = Vec::new();
        for n in [100, 200, 400] {
            for ratio in [1.0, 2.0, 4.0] {
                for trial in 0..3 {
                    let timed_out =
                        n == 400 && ((ratio == 1.0 && trial < 2) || (ratio == 2.0 && trial == 0));
                    let unique = (!timed_out).then_some(ratio == 4.0);
                    let seconds = if timed_out {
                        60.0
                    } else {
                        0.01 * f64::from(trial + 1)
                    };
                    let r = Row {
                        trial,
                        ..row(n, ratio, unique, seconds, timed_out)
                    };
                    if n == 100 {
                        rows.push(Row {
                            method: "gd".into(),
                            unique: None,
                            ..r.clone()
                        });
                    }
                    rows.push(r);
                }
            }
        }
        rows
    }

    #[test]
    fn every_curve_has_its_own_colour_marker_and_dash_in_every_panel_and_the_legend() {
        let picture = svg(&rows());
        let all = elements(&picture);
        let defs: HashMap<&str, &str> = all
            .iter()
            .filter(|e| e.0 == "path")
            .map(|e| (attr(e, "id").unwrap(), attr(e, "d").unwrap()))
            .collect();
        for panel in ["recovered", "time", "legend"] {
            let mut looks = Vec::new();
            for s in SERIES {
                let els = drawn(&all, s, panel);
                let lines: Vec<_> = els.iter().filter(|e| e.0 == "polyline").collect();
                assert_eq!(lines.len(), 1, "{s} in {panel}");
                let color = attr(lines[0], "stroke").unwrap();
                let dash = attr(lines[0], "stroke-dasharray").unwrap_or("solid");
                let shapes: HashSet<&str> = els
                    .iter()
                    .filter(|e| e.0 == "use" && attr(e, "xlink:href") != Some("#m-timeout"))
                    .map(|e| {
                        assert_eq!(attr(e, "stroke"), Some(color), "{s} in {panel}");
                        defs[&attr(e, "xlink:href").unwrap()[1..]]
                    })
                    .collect();
                assert_eq!(shapes.len(), 1, "one marker shape for {s} in {panel}");
                looks.push((color, dash, shapes.into_iter().next().unwrap()));
            }
            for i in 0..looks.len() {
                for j in 0..i {
                    let (a, b) = (looks[i], looks[j]);
                    assert!(
                        a.0 != b.0 && a.1 != b.1 && a.2 != b.2,
                        "{} and {} share a colour, dash or marker in {panel}: {a:?} {b:?}",
                        SERIES[i],
                        SERIES[j]
                    );
                }
            }
        }
        // Beyond the seven colours, the combination stays distinct.
        let styles: Vec<Style> = (0..49).map(Style::of).collect();
        for i in 0..styles.len() {
            for j in 0..i {
                let (a, b) = (styles[i], styles[j]);
                assert!((a.color, a.marker) != (b.color, b.marker), "{i} {j}");
            }
        }
    }

    #[test]
    fn the_legend_lies_outside_every_data_area_and_every_point_inside_its_own() {
        for rows in [rows(), {
            // More curves than colours: the legend grows, still beside the panels.
            let mut many = Vec::new();
            for n in 10..22 {
                many.push(row(n, 3.0, Some(true), 0.5, false));
            }
            many
        }] {
            let picture = svg(&rows);
            let all = elements(&picture);
            let root = &all[0];
            let canvas = (0.0, 0.0, num(root, "width"), num(root, "height"));
            let boxes: Vec<_> = all
                .iter()
                .filter(|e| attr(e, "class") == Some("legend-box"))
                .map(bounds)
                .collect();
            assert_eq!(boxes.len(), 1);
            let legend = boxes[0];
            assert!(
                inside((legend.2, legend.3), canvas),
                "{legend:?} {canvas:?}"
            );
            for panel in ["recovered", "time", "unique", "decided"] {
                let data = area(&all, panel);
                assert!(
                    !intersect(legend, data),
                    "legend {legend:?} over {panel} {data:?}"
                );
                for e in all
                    .iter()
                    .filter(|e| attr(e, "data-panel") == Some(panel) && e.0 == "use")
                {
                    assert!(
                        inside((num(e, "x"), num(e, "y")), data),
                        "{e:?} outside {panel}"
                    );
                }
            }
            for e in all
                .iter()
                .filter(|e| attr(e, "data-panel") == Some("legend") && e.0 == "use")
            {
                assert!(inside((num(e, "x"), num(e, "y")), legend), "{e:?}");
            }
        }
    }

    #[test]
    fn timeouts_have_their_own_open_marker_on_the_limit_line_and_are_counted() {
        let picture = svg(&rows());
        let all = elements(&picture);
        let limits: Vec<_> = all
            .iter()
            .filter(|e| attr(e, "class") == Some("limit"))
            .collect();
        assert_eq!(limits.len(), 1, "one limit line");
        let limit_y = num(limits[0], "y1");
        let timeouts: Vec<_> = all
            .iter()
            .filter(|e| {
                attr(e, "xlink:href") == Some("#m-timeout") && attr(e, "data-panel") == Some("time")
            })
            .collect();
        // Ratios 1 and 2 of N = 400 had timeouts; only there.
        assert_eq!(timeouts.len(), 2);
        for t in &timeouts {
            assert_eq!(attr(t, "data-series"), Some("sat N=400"));
            assert_eq!(num(t, "y"), limit_y, "on the limit line");
            assert_eq!(attr(t, "fill"), Some("#FFFFFF"), "open");
        }
        // Its median timed out at ratio 1: that point is the triangle, not the curve's marker.
        let markers = drawn(&all, "sat N=400", "time")
            .into_iter()
            .filter(|e| e.0 == "use" && attr(e, "xlink:href") != Some("#m-timeout"))
            .count();
        assert_eq!(markers, 2);
        let shape = |id: &str| {
            all.iter()
                .find(|e| attr(e, "id") == Some(id))
                .and_then(|e| attr(e, "d"))
                .unwrap()
        };
        assert!(MARKERS.iter().all(|m| shape(m.0) != shape(TIMEOUT.0)));
        assert!(picture.contains("timed out: 3 of 36 trials"), "{picture}");
        assert!(picture.contains(">sat N=400</text>"));
        assert_eq!(
            picture.matches("timed out: 3 of 9<").count(),
            1,
            "{picture}"
        );
        assert_eq!(
            picture.matches("timed out: 0 of 9<").count(),
            3,
            "{picture}"
        );
        assert!(picture.contains(">trials timed out here<") && picture.contains(">time limit<"));
        // Without timeouts: no triangle in the panels and no limit line.
        let fine: Vec<Row> = rows().into_iter().filter(|r| r.n != 400).collect();
        let fine = svg(&fine);
        assert!(!fine.contains(r#"class="limit""#));
        assert!(!fine.contains(r##"xlink:href="#m-timeout""##), "{fine}");
        assert!(!fine.contains(">time limit<"), "{fine}");
        // A timed-out trial of 0 s (an edited file) is drawn at the bottom of the axis.
        let zero = svg(&[row(100, 1.0, None, 0.0, true)]);
        let all = elements(&zero);
        let limit = all
            .iter()
            .find(|e| attr(e, "class") == Some("limit"))
            .unwrap();
        assert_eq!(num(limit, "y1"), area(&all, "time").3, "{zero}");
        // The longest time a row file can hold still has a place on the axis.
        let long = svg(&[row(100, 1.0, None, f64::MAX, true)]);
        assert!(!long.contains("NaN") && !long.contains("inf"), "{long}");
    }

    #[test]
    fn decided_has_its_own_panel_under_the_time_panel() {
        let picture = svg(&rows());
        let all = elements(&picture);
        let (time, decided) = (area(&all, "time"), area(&all, "decided"));
        assert_eq!((time.0, time.2), (decided.0, decided.2), "same column");
        assert!(decided.1 > time.3, "under it");
        assert!(picture.contains(">Decided</text>"));
        assert!(
            drawn(&all, "gd N=100", "decided").is_empty(),
            "gd decides nothing"
        );
        assert!(!drawn(&all, "gd N=100", "recovered").is_empty());
        // N = 400: 1/3 decided at ratio 1, all at ratio 4 (higher up: smaller y).
        let ys: Vec<f64> = drawn(&all, "sat N=400", "decided")
            .into_iter()
            .filter(|e| e.0 == "use")
            .map(|e| num(e, "y"))
            .collect();
        assert_eq!(ys.len(), 3);
        assert!(ys[0] > ys[1] && ys[1] > ys[2], "{ys:?}");
        assert!(
            (ys[0] - ys[2] - DATA_H / 1.1 * (2.0 / 3.0)).abs() < 0.5,
            "{ys:?}"
        );
        // Only the recovery panel has data when no method proves uniqueness.
        let gd: Vec<Row> = rows().into_iter().filter(|r| r.method == "gd").collect();
        let gd = svg(&gd);
        assert_eq!(gd.matches("no method here proves uniqueness").count(), 2);
        assert_eq!(
            elements(&svg(&[]))
                .iter()
                .filter(|e| attr(e, "class") == Some("data-area"))
                .count(),
            4
        );
    }
}
