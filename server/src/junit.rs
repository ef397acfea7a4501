//! JUnit XML reports (Maven Surefire, pytest `--junitxml`, Gradle, Jest, cargo
//! nextest …): which test cases ran, failed, errored or were skipped.
//!
//! Only `<testcase>` elements count, wherever they sit (`<testsuites>` nest
//! `<testsuite>`s, which may nest more); a case with a `<failure>` failed, one with
//! an `<error>` errored, one with `<skipped>` did not run. Surefire's
//! `<flakyFailure>` / `<rerunFailure>` (a case that passed on a rerun) do not count
//! as failures. Anything that is not well-formed XML with a `<testsuites>` or
//! `<testsuite>` root is refused.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// What one or more reports say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JunitSummary {
    /// Test cases, skipped ones included.
    pub tests: usize,
    pub skipped: usize,
    /// Failed or errored cases, in report order.
    pub failing: Vec<FailingTest>,
}

/// A failed or errored test case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailingTest {
    /// `classname.name` (or `name` alone).
    pub name: String,
    /// `failure` or `error`.
    pub kind: &'static str,
    /// The `message` attribute, or else the first line of the element's text.
    pub message: String,
}

impl JunitSummary {
    /// Passed: at least one test ran (not skipped) and none failed or errored.
    pub fn passed(&self) -> bool {
        self.tests > self.skipped && self.failing.is_empty()
    }

    pub fn add(&mut self, other: Self) {
        self.tests += other.tests;
        self.skipped += other.skipped;
        self.failing.extend(other.failing);
    }

    /// A summary line and one line per failing test, for the run's excerpt.
    pub fn describe(&self, reports: usize) -> String {
        let errored = self
            .failing
            .iter()
            .filter(|test| test.kind == "error")
            .count();
        let mut text = format!(
            "JUnit: {} tests in {reports} report{}: {} passed, {} failed, {errored} errored, {} skipped\n",
            self.tests,
            if reports == 1 { "" } else { "s" },
            self.tests - self.skipped - self.failing.len(),
            self.failing.len() - errored,
            self.skipped,
        );
        if self.tests == self.skipped {
            text.push_str("no test ran\n");
        }
        for test in &self.failing {
            text.push_str(&format!("{} {}: {}\n", test.kind, test.name, test.message));
        }
        text
    }
}

/// Why a report was refused.
#[derive(Debug, thiserror::Error)]
pub enum JunitError {
    #[error("malformed XML at byte {position}: {message}")]
    Malformed { position: u64, message: String },
    #[error("not a JUnit report: the root element is <{0}>, not <testsuites> or <testsuite>")]
    NotJunit(String),
    #[error("not a JUnit report: no root element")]
    Empty,
    #[error("malformed XML: the document ends inside <{0}>")]
    Unclosed(String),
}

/// The test case being read.
struct Case {
    name: String,
    skipped: bool,
    failing: Option<FailingTest>,
    /// Set while inside the case's `<failure>`/`<error>` without a message.
    reading_message: bool,
    /// That element's text so far (its start only).
    text: String,
}

/// Reads one report.
pub fn parse(xml: &str) -> Result<JunitSummary, JunitError> {
    let mut reader = Reader::from_str(xml);
    let malformed = |reader: &Reader<&[u8]>, error: &dyn std::fmt::Display| JunitError::Malformed {
        position: reader.error_position(),
        message: error.to_string(),
    };
    let mut summary = JunitSummary::default();
    let mut open: Vec<String> = Vec::new();
    let mut root_seen = false;
    let mut case: Option<Case> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|error| malformed(&reader, &error))?;
        match event {
            Event::Start(_) | Event::Empty(_) if open.is_empty() && root_seen => {
                return Err(malformed(&reader, &"a second root element"));
            }
            Event::Start(ref element) | Event::Empty(ref element) => {
                let name = element.local_name().as_ref().to_owned();
                if open.is_empty() {
                    if name != "testsuites" && name != "testsuite" {
                        return Err(JunitError::NotJunit(name));
                    }
                    root_seen = true;
                }
                let empty = matches!(event, Event::Empty(_));
                match name.as_str() {
                    "testcase" => {
                        let test = attribute(element, "name")
                            .map_err(|error| malformed(&reader, &error))?
                            .unwrap_or_default();
                        let class = attribute(element, "classname")
                            .map_err(|error| malformed(&reader, &error))?
                            .unwrap_or_default();
                        let name = if class.is_empty() {
                            test
                        } else {
                            format!("{class}.{test}")
                        };
                        let new = Case {
                            name,
                            skipped: false,
                            failing: None,
                            reading_message: false,
                            text: String::new(),
                        };
                        if empty {
                            finish(&mut summary, new);
                        } else {
                            case = Some(new);
                        }
                    }
                    "failure" | "error"
                        if open.last().is_some_and(|parent| parent == "testcase") =>
                    {
                        if let Some(case) = case.as_mut().filter(|case| case.failing.is_none()) {
                            let message = attribute(element, "message")
                                .map_err(|error| malformed(&reader, &error))?
                                .unwrap_or_default();
                            case.reading_message = message.trim().is_empty() && !empty;
                            case.failing = Some(FailingTest {
                                name: case.name.clone(),
                                kind: if name == "failure" {
                                    "failure"
                                } else {
                                    "error"
                                },
                                message: one_line(&message),
                            });
                        }
                    }
                    "skipped" if open.last().is_some_and(|parent| parent == "testcase") => {
                        if let Some(case) = case.as_mut() {
                            case.skipped = true;
                        }
                    }
                    _ => {}
                }
                if !empty {
                    open.push(name);
                }
            }
            Event::End(_) => {
                let Some(name) = open.pop() else {
                    return Err(malformed(&reader, &"an end tag without a start tag"));
                };
                match name.as_str() {
                    "testcase" => {
                        if let Some(case) = case.take() {
                            finish(&mut summary, case);
                        }
                    }
                    "failure" | "error" => {
                        if let Some(case) = case.as_mut() {
                            case.reading_message = false;
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(text) => {
                if open.is_empty() && !text.xml10_content().trim().is_empty() {
                    return Err(malformed(&reader, &"text outside the root element"));
                }
                message_text(case.as_mut(), &text.xml10_content());
            }
            Event::CData(text) => message_text(case.as_mut(), &text.xml10_content()),
            Event::GeneralRef(reference) => {
                let resolved = if reference.is_char_ref() {
                    reference
                        .resolve_char_ref()
                        .map_err(|error| malformed(&reader, &error))?
                        .map(String::from)
                } else {
                    resolve_predefined_entity(&reference.xml10_content()).map(str::to_owned)
                };
                let Some(resolved) = resolved else {
                    return Err(malformed(
                        &reader,
                        &format!("unknown entity &{};", reference.xml10_content()),
                    ));
                };
                message_text(case.as_mut(), &resolved);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(name) = open.pop() {
        return Err(JunitError::Unclosed(name));
    }
    if !root_seen {
        return Err(JunitError::Empty);
    }
    Ok(summary)
}

fn finish(summary: &mut JunitSummary, case: Case) {
    summary.tests += 1;
    if let Some(mut failing) = case.failing {
        if failing.message.is_empty() {
            failing.message = one_line(&case.text);
        }
        summary.failing.push(failing);
    } else if case.skipped {
        summary.skipped += 1;
    }
}

/// Longest start of a `<failure>`/`<error>` text kept to find its first line.
const TEXT_KEPT: usize = 4_096;

/// Text inside a `<failure>`/`<error>` without a message: its first line
/// becomes the message.
fn message_text(case: Option<&mut Case>, text: &str) {
    if let Some(case) = case.filter(|case| case.reading_message && case.text.len() < TEXT_KEPT) {
        case.text.push_str(text);
    }
}

/// The first non-empty line, trimmed, at most 300 characters.
fn one_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default();
    line.chars().take(300).collect()
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Result<Option<String>, quick_xml::Error> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(quick_xml::Error::from)?;
        if attribute.key.local_name().as_ref() == name {
            let value = attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0)?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}
