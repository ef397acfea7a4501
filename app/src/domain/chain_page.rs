//! Pages of a ledger's history. A chain only grows, so whoever shows it reads one
//! page at a time, newest first: at most `limit` records with a sequence number
//! below `before` (from the head when `before` is absent). The seq of the oldest
//! record on a page is the `before` of the next, older one.

use serde::{Deserialize, Serialize};

use super::access::FieldError;

/// Records per page when the client names no limit.
pub const DEFAULT_PAGE_RECORDS: u32 = 50;
/// The most records one page may ask for.
pub const MAX_PAGE_RECORDS: u32 = 200;
/// Records per chain on the room page.
pub const ROOM_PAGE_RECORDS: u32 = 20;

/// Which page of a chain's history is wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// 1 ..= [`MAX_PAGE_RECORDS`].
    pub limit: u32,
    /// Only records with a lower seq; `None` starts at the head. At least 1.
    pub before: Option<i32>,
}

impl PageRequest {
    /// The newest `limit` records.
    pub fn newest(limit: u32) -> Self {
        Self {
            limit,
            before: None,
        }
    }

    /// A page as a client asked for it, each value checked; the error names the
    /// parameter and what it takes.
    pub fn checked(limit: Option<i64>, before: Option<i64>) -> Result<Self, FieldError> {
        let limit = match limit {
            None => DEFAULT_PAGE_RECORDS,
            Some(limit) => u32::try_from(limit)
                .ok()
                .filter(|limit| (1..=MAX_PAGE_RECORDS).contains(limit))
                .ok_or_else(|| {
                    FieldError::new(
                        "limit",
                        format!("a whole number of records from 1 to {MAX_PAGE_RECORDS}"),
                    )
                })?,
        };
        Ok(Self {
            limit,
            before: checked_before(before)?,
        })
    }

    /// How many rows to fetch: one more than the page holds, to learn whether an
    /// older page exists without counting the chain.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// The `seq <` bound for the query.
    pub fn below(&self) -> i32 {
        self.before.unwrap_or(i32::MAX)
    }
}

/// A `before` as a client asked for it: absent, or a record number from 1 up.
pub fn checked_before(before: Option<i64>) -> Result<Option<i32>, FieldError> {
    before
        .map(|before| {
            i32::try_from(before)
                .ok()
                .filter(|before| *before >= 1)
                .ok_or_else(|| {
                    FieldError::new(
                        "before",
                        "a record number (seq) from 1 up: the page holds the records before it",
                    )
                })
        })
        .transpose()
}

/// [`checked_before`] of a query-string value (the room page's `?before=`).
pub fn parse_before(field: &str, raw: Option<&str>) -> Result<Option<i32>, FieldError> {
    match raw {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .and_then(|before| checked_before(Some(before)).ok().flatten())
            .map(Some)
            .ok_or_else(|| FieldError::new(field, "a record number (seq) from 1 up")),
    }
}

/// One page of a chain's history, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainPage<T> {
    pub records: Vec<T>,
    /// What was asked: `None` for the newest page.
    pub before: Option<i32>,
    /// The `before` of the next older page; `None` when this page reaches the
    /// chain's first record.
    pub older: Option<i32>,
}

impl<T> ChainPage<T> {
    /// The page out of `rows`, fetched newest first with [`PageRequest::fetch`]
    /// rows at most; `seq` reads a row's sequence number.
    pub fn from_rows(mut rows: Vec<T>, request: PageRequest, seq: impl Fn(&T) -> i32) -> Self {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let older = if more { rows.last().map(&seq) } else { None };
        Self {
            records: rows,
            before: request.before,
            older,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> ChainPage<U> {
        ChainPage {
            records: self.records.into_iter().map(f).collect(),
            before: self.before,
            older: self.older,
        }
    }
}

impl<T> Default for ChainPage<T> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            before: None,
            older: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_request_defaults_and_checks_its_bounds() {
        assert_eq!(
            PageRequest::checked(None, None),
            Ok(PageRequest::newest(DEFAULT_PAGE_RECORDS))
        );
        assert_eq!(
            PageRequest::checked(Some(1), Some(7)),
            Ok(PageRequest {
                limit: 1,
                before: Some(7)
            })
        );
        assert!(PageRequest::checked(Some(i64::from(MAX_PAGE_RECORDS)), None).is_ok());
        for limit in [0, -1, i64::from(MAX_PAGE_RECORDS) + 1, i64::MAX] {
            let error = PageRequest::checked(Some(limit), None).expect_err("refused");
            assert_eq!(error.field, "limit", "{limit}");
        }
        for before in [0, -5, i64::from(i32::MAX) + 1] {
            let error = PageRequest::checked(None, Some(before)).expect_err("refused");
            assert_eq!(error.field, "before", "{before}");
        }
    }

    #[test]
    fn the_room_page_before_parameter_is_a_record_number() {
        assert_eq!(parse_before("before", None), Ok(None));
        assert_eq!(parse_before("before", Some("")), Ok(None));
        assert_eq!(parse_before("before", Some("12")), Ok(Some(12)));
        for raw in ["0", "-1", "abc", "1.5", "99999999999"] {
            assert_eq!(
                parse_before("evidence_before", Some(raw))
                    .expect_err("refused")
                    .field,
                "evidence_before",
                "{raw}"
            );
        }
    }

    #[test]
    fn a_page_knows_whether_older_records_exist() {
        let request = PageRequest::newest(3);
        // Fetched newest first, one more than the page holds.
        let page = ChainPage::from_rows(vec![9, 8, 7, 6], request, |seq| *seq);
        assert_eq!(page.records, [9, 8, 7]);
        assert_eq!(page.older, Some(7));
        let last = ChainPage::from_rows(
            vec![6, 5, 4],
            PageRequest {
                limit: 3,
                before: Some(7),
            },
            |seq| *seq,
        );
        assert_eq!(last.records, [6, 5, 4]);
        assert_eq!(last.before, Some(7));
        assert_eq!(last.older, None);
        let empty = ChainPage::from_rows(Vec::<i32>::new(), request, |seq| *seq);
        assert!(empty.records.is_empty());
        assert_eq!(empty.older, None);
    }
}
