//! Stacked bar charts drawn on the server as SVG (no script, nothing fetched), with the same
//! numbers as a table beneath for screen readers and for copying (`chart.html`).

/// One stack's part.
pub struct Segment {
    pub y: i64,
    pub height: i64,
    pub color: &'static str,
    pub title: String,
}

pub struct Bar {
    pub x: i64,
    pub label_x: i64,
    /// The label under the bar (shortened); `key` is the full one.
    pub label: String,
    pub key: String,
    pub total: i64,
    pub segments: Vec<Segment>,
}

pub struct Row {
    pub label: String,
    pub values: Vec<i64>,
    pub total: i64,
}

pub struct Chart {
    /// The element id of the SVG (`<id>-table` is the table's).
    pub id: &'static str,
    pub title: String,
    pub width: i64,
    pub max: i64,
    pub bars: Vec<Bar>,
    /// (colour, series label), in stacking order from the bottom.
    pub legend: Vec<(&'static str, String)>,
    pub rows: Vec<Row>,
    pub empty: bool,
    /// The first column's heading in the table (month, company).
    pub row_heading: String,
}

/// Colours that stay apart for the common kinds of colour blindness (Okabe and Ito).
pub const PALETTE: [&str; 6] = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00"];

const HEIGHT: i64 = 160;
const TOP: i64 = 20;
const BAR_WIDTH: i64 = 44;
const STEP: i64 = 72;
const LABEL_CHARS: usize = 7;
/// A chart of few bars is not stretched across the page (its labels would grow with it).
const MIN_WIDTH: i64 = 520;

/// Series labels with the palette's colours, in order.
pub fn in_palette(labels: &[String]) -> Vec<(&'static str, String)> {
    labels
        .iter()
        .zip(PALETTE.iter().cycle())
        .map(|(l, c)| (*c, l.clone()))
        .collect()
}

/// A chart of one bar per row, each stacked from `series` ((colour, label), bottom to top).
/// `rows` are (label, one value per series).
pub fn stacked(
    id: &'static str,
    title: String,
    row_heading: String,
    series: Vec<(&'static str, String)>,
    rows: Vec<(String, Vec<i64>)>,
) -> Chart {
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|(label, values)| Row {
            total: values.iter().sum(),
            label,
            values,
        })
        .collect();
    let max = rows.iter().map(|r| r.total).max().unwrap_or(0);
    let scale = |v: i64| if max == 0 { 0 } else { v * HEIGHT / max };
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let x = 40 + i as i64 * STEP;
            let mut top = TOP + HEIGHT;
            let segments = series
                .iter()
                .zip(&row.values)
                .filter(|(_, v)| **v > 0)
                .map(|((color, name), value)| {
                    let height = scale(*value).max(1);
                    top -= height;
                    Segment {
                        y: top,
                        height,
                        color,
                        title: format!("{} · {name}: {value}", row.label),
                    }
                })
                .collect();
            Bar {
                x,
                label_x: x + BAR_WIDTH / 2,
                label: shorten(&row.label),
                key: row.label.clone(),
                total: row.total,
                segments,
            }
        })
        .collect::<Vec<_>>();
    Chart {
        id,
        title,
        width: (40 + bars.len() as i64 * STEP).max(MIN_WIDTH),
        max,
        bars,
        legend: series,
        empty: max == 0,
        rows,
        row_heading,
    }
}

/// A label that fits under a bar: long company names lose their tail (the full name is in the
/// bar's title and the table).
fn shorten(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_owned()
    } else {
        label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_tallest_stack_and_keep_their_numbers() {
        let series = in_palette(&["a".to_owned(), "b".to_owned()]);
        let chart = stacked(
            "c",
            "t".into(),
            "m".into(),
            series.clone(),
            vec![
                ("2026-11".into(), vec![3, 1]),
                ("2026-12".into(), vec![0, 8]),
                ("一般財団法人 東都生活研究所".into(), vec![0, 0]),
            ],
        );
        assert_eq!(chart.max, 8);
        assert_eq!(chart.rows[0].total, 4);
        let tallest: i64 = chart.bars[1].segments.iter().map(|s| s.height).sum();
        assert_eq!(tallest, HEIGHT);
        assert_eq!(chart.bars[1].segments.len(), 1, "a zero part draws nothing");
        assert!(chart.bars[2].segments.is_empty());
        assert_eq!(chart.bars[2].label.chars().count(), LABEL_CHARS);
        assert_eq!(chart.bars[2].key, "一般財団法人 東都生活研究所");
        assert!(!chart.empty);
        let none = stacked("c", "t".into(), "m".into(), series, vec![("x".into(), vec![0, 0])]);
        assert!(none.empty);
    }
}
