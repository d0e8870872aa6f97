//! Progress of the long commands (`seed`, `import`, `import-node`,
//! `export`) on standard error: an indicatif bar with counts, rate and ETA
//! when standard error is a terminal; a plain line every few seconds when
//! it is not, so that logs of scheduled jobs show it too; nothing with
//! `--quiet`. The commands' summary lines are printed apart from this.

use std::io::{IsTerminal, Read, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{
    BinaryBytes, HumanCount, HumanDuration, HumanFloatCount, ProgressBar, ProgressDrawTarget,
    ProgressState, ProgressStyle,
};

/// The progress flags of the long commands.
#[derive(clap::Args, Debug, Clone)]
pub struct ProgressArgs {
    /// Print no progress (neither the bar nor the periodic lines); the
    /// summary is still printed.
    #[arg(short, long)]
    pub quiet: bool,
    /// Seconds between progress lines when standard error is not a terminal.
    #[arg(long, default_value = "5", value_parser = parse_interval, hide = true)]
    pub progress_interval: Duration,
}

fn parse_interval(value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{value:?} is not a positive number of seconds"))
}

impl ProgressArgs {
    /// Where progress goes: nowhere when quiet, a bar on a terminal,
    /// periodic lines otherwise.
    pub fn output(&self) -> Output {
        if self.quiet {
            Output::Hidden
        } else if std::io::stderr().is_terminal() {
            Output::Bar
        } else {
            Output::Lines(self.progress_interval)
        }
    }

    /// A progress report of `task` (the command's name) counted in `unit`.
    pub fn start(&self, task: &'static str, unit: Unit) -> Progress {
        Progress::new(task, unit, self.output())
    }
}

/// Where progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Hidden,
    /// An indicatif bar on standard error.
    Bar,
    /// A plain line on standard error at this interval.
    Lines(Duration),
}

/// What the counts count: rows (named, e.g. "rows" or "times") or bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Items(&'static str),
    Bytes,
}

/// A progress report. Clones report to the same bar; the count, rate and
/// ETA are the bar's, whether it is drawn or not.
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    task: &'static str,
    unit: Unit,
    /// The thread printing plain lines, stopped by `finish` or when the
    /// last clone is dropped.
    lines: Option<Arc<LinePrinter>>,
}

impl Progress {
    /// Tracks nothing visible (library callers, tests).
    pub fn hidden() -> Progress {
        Progress::new("", Unit::Items("rows"), Output::Hidden)
    }

    pub fn new(task: &'static str, unit: Unit, output: Output) -> Progress {
        let target = match output {
            Output::Bar => ProgressDrawTarget::stderr(),
            Output::Hidden | Output::Lines(_) => ProgressDrawTarget::hidden(),
        };
        let bar = ProgressBar::with_draw_target(None, target)
            .with_prefix(task)
            .with_message("starting");
        let mut progress = Progress {
            bar,
            task,
            unit,
            lines: None,
        };
        progress.bar.set_style(progress.style(false));
        match output {
            Output::Bar => progress.bar.enable_steady_tick(Duration::from_millis(200)),
            Output::Lines(interval) => {
                progress.lines = Some(Arc::new(LinePrinter::start(progress.clone(), interval)));
            }
            Output::Hidden => {}
        }
        progress
    }

    fn style(&self, with_length: bool) -> ProgressStyle {
        let template = match (self.unit, with_length) {
            (Unit::Items(noun), true) => format!(
                "{{prefix}}: {{msg}} [{{elapsed}}] {{wide_bar}} {{human_pos}}/{{human_len}} {noun} \
                 ({{rate}}, ETA {{eta}})"
            ),
            (Unit::Items(noun), false) => {
                format!("{{prefix}}: {{msg}} {{spinner}} {{human_pos}} {noun} ({{rate}})")
            }
            (Unit::Bytes, true) => "{prefix}: {msg} [{elapsed}] {wide_bar} \
                 {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, ETA {eta})"
                .to_owned(),
            (Unit::Bytes, false) => {
                "{prefix}: {msg} {spinner} {binary_bytes} ({binary_bytes_per_sec})".to_owned()
            }
        };
        ProgressStyle::with_template(&template)
            .expect("a valid progress template")
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}/s", HumanFloatCount(state.per_sec()));
                },
            )
    }

    /// The total to reach, once known.
    pub fn set_length(&self, length: u64) {
        self.bar.set_length(length);
        self.bar.set_style(self.style(true));
    }

    /// Counts `n` more.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Names what is being worked on now (a table).
    pub fn set_stage(&self, stage: &'static str) {
        self.bar.set_message(stage);
    }

    /// Counts the bytes read through the returned reader.
    pub fn wrap_read<R: Read + Send + 'static>(&self, read: R) -> impl Read + Send + 'static {
        self.bar.wrap_read(read)
    }

    /// The plain progress line: count (of the total), rate, ETA.
    pub fn line(&self) -> String {
        let count = |n: u64| match self.unit {
            Unit::Items(_) => HumanCount(n).to_string(),
            Unit::Bytes => BinaryBytes(n).to_string(),
        };
        let (noun, rate) = match self.unit {
            Unit::Items(noun) => (
                format!(" {noun}"),
                format!("{:.0} {noun}/s", HumanFloatCount(self.bar.per_sec())),
            ),
            Unit::Bytes => (
                String::new(),
                format!("{}/s", BinaryBytes(self.bar.per_sec() as u64)),
            ),
        };
        let position = self.bar.position();
        let stage = self.bar.message();
        let mut line = format!("{}: {stage}: {}", self.task, count(position));
        match self.bar.length() {
            Some(total) if total > 0 => {
                let percent = (position.min(total) * 100) / total;
                line += &format!(
                    "/{}{noun} ({percent}%), {rate}, ETA {:#}",
                    count(total),
                    HumanDuration(self.bar.eta())
                );
            }
            _ => line += &format!("{noun}, {rate}"),
        }
        line
    }

    /// Ends the report: clears the bar, stops the lines.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        if let Some(lines) = &self.lines {
            lines.stop();
        }
    }
}

/// Prints `Progress::line` to standard error at an interval, on its own
/// thread (the commands' work runs on the async runtime).
struct LinePrinter {
    running: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
}

impl LinePrinter {
    fn start(progress: Progress, interval: Duration) -> LinePrinter {
        let (stop, stopped) = mpsc::channel::<()>();
        // The thread holds the bar, not the printer: no cycle keeps it alive.
        let progress = Progress {
            lines: None,
            ..progress
        };
        let thread = std::thread::spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                let _ = writeln!(std::io::stderr().lock(), "{}", progress.line());
            }
        });
        LinePrinter {
            running: Mutex::new(Some((stop, thread))),
        }
    }

    fn stop(&self) {
        let running = self.running.lock().map(|mut r| r.take());
        if let Ok(Some((stop, thread))) = running {
            drop(stop);
            let _ = thread.join();
        }
    }
}

impl Drop for LinePrinter {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_line_gives_count_total_rate_and_eta() {
        let progress = Progress::new("seed", Unit::Items("times"), Output::Hidden);
        progress.set_stage("times");
        progress.set_length(1_000_000);
        progress.inc(250_000);
        let line = progress.line();
        assert!(
            line.starts_with("seed: times: 250,000/1,000,000 times (25%), "),
            "{line}"
        );
        assert!(line.contains(" times/s, ETA "), "{line}");

        let bytes = Progress::new("import", Unit::Bytes, Output::Hidden);
        bytes.set_stage("users");
        let mut read = bytes.wrap_read(&[0u8; 3000][..]);
        std::io::copy(&mut read, &mut std::io::sink()).unwrap();
        let line = bytes.line();
        assert!(line.starts_with("import: users: 2.93 KiB, "), "{line}");
        assert!(line.ends_with("/s"), "{line}");
    }

    #[test]
    fn intervals_are_positive_seconds() {
        assert_eq!(parse_interval("0.05"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_interval("5"), Ok(Duration::from_secs(5)));
        for bad in ["0", "-1", "x", "NaN", "inf"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
