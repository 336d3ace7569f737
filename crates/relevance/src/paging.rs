//! Paging: one [`Page`] type for every list of tasks, and walking a list
//! page by page as one stream of items.
//!
//! The platform's cursor lists hand back a `next_cursor` until the last
//! page. Walking them is the same loop whatever is listed, so it lives here
//! once, apart from any wire format: a resource supplies "fetch the page at
//! this cursor" and gets every item in order.
//!
//! The stream is built from `futures_util::stream::unfold` and boxed, so it
//! is `Unpin` and its `Send`-ness follows the fetch future's: `Send` off the
//! browser, not required on wasm (where request futures are not `Send`).

use std::collections::VecDeque;
use std::future::Future;

use futures_util::stream::{self, Stream};

use crate::error::{Error, Result};

/// One page of a list: its items and where the next page starts. Every
/// list of tasks pages this way (agents' by page number, workforces' by
/// cursor); each has an `all_tasks` stream that walks every page.
///
/// A page derefs to its items (`page.len()`, `page[0]`, `page.iter()`) and
/// iterates over them.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Where the next page starts (pass it back in the list options); `None`
    /// on the last page.
    pub next_cursor: Option<String>,
}

impl<T> std::ops::Deref for Page<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'p, T> IntoIterator for &'p Page<T> {
    type Item = &'p T;
    type IntoIter = std::slice::Iter<'p, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

struct Walk<T, F> {
    fetch: F,
    /// Items fetched but not yielded yet.
    buffer: VecDeque<T>,
    /// `Some(cursor)` while there is a page to fetch (the first page's cursor
    /// is `None`); `None` once the last page was read or a fetch failed.
    next_page: Option<Option<String>>,
    /// Names the answer in an [`Error::InvalidAnswer`].
    what: &'static str,
}

/// Every item of every page from `first_cursor` on, fetched lazily page by
/// page as the stream is polled.
///
/// The stream ends after the last page, or right after yielding the first
/// error. A page that hands back the very cursor it was fetched with would
/// make the walk endless, so that is an [`Error::InvalidAnswer`] as well.
pub(crate) fn every_item<T, F, Fut>(
    first_cursor: Option<String>,
    what: &'static str,
    fetch: F,
) -> impl Stream<Item = Result<T>> + Unpin
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    let walk = Walk {
        fetch,
        buffer: VecDeque::new(),
        next_page: Some(first_cursor),
        what,
    };
    Box::pin(stream::unfold(walk, |mut walk| async move {
        loop {
            if let Some(item) = walk.buffer.pop_front() {
                return Some((Ok(item), walk));
            }
            let cursor = walk.next_page.take()?;
            let page = match (walk.fetch)(cursor.clone()).await {
                Ok(page) => page,
                Err(error) => return Some((Err(error), walk)),
            };
            if page.next_cursor.is_some() && page.next_cursor == cursor {
                let error = Error::InvalidAnswer {
                    what: walk.what.to_string(),
                    problem: format!(
                        "next_cursor '{}' is the cursor the page was asked for; paging would never end",
                        page.next_cursor.unwrap_or_default()
                    ),
                };
                return Some((Err(error), walk));
            }
            walk.buffer.extend(page.items);
            walk.next_page = page.next_cursor.map(Some);
        }
    }))
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::cell::RefCell;

    /// A fake list: cursor → answer. Records every cursor asked for.
    fn walk_over(
        first: Option<&str>,
        pages: Vec<(Option<&'static str>, Result<Page<u32>>)>,
    ) -> (Vec<std::result::Result<u32, String>>, Vec<Option<String>>) {
        let pages = RefCell::new(pages);
        let asked = RefCell::new(Vec::new());
        let stream = every_item(first.map(str::to_string), "test list answer", |cursor| {
            asked.borrow_mut().push(cursor.clone());
            let mut pages = pages.borrow_mut();
            let position = pages
                .iter()
                .position(|(at, _)| at.map(str::to_string) == cursor)
                .expect("the walk only asks for cursors the fake list handed out");
            let (_, answer) = pages.remove(position);
            async move { answer }
        });
        let items = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
            .block_on(stream.collect::<Vec<_>>());
        let items = items
            .into_iter()
            .map(|item| item.map_err(|e| e.to_string()))
            .collect();
        (items, asked.into_inner())
    }

    fn page(items: &[u32], next: Option<&str>) -> Result<Page<u32>> {
        Ok(Page {
            items: items.to_vec(),
            next_cursor: next.map(str::to_string),
        })
    }

    #[test]
    fn every_page_is_walked_in_order_until_there_is_no_next_cursor() {
        let (items, asked) = walk_over(
            None,
            vec![
                (None, page(&[1, 2], Some("c2"))),
                (Some("c2"), page(&[], Some("c3"))),
                (Some("c3"), page(&[3], None)),
            ],
        );
        assert_eq!(items, [Ok(1), Ok(2), Ok(3)]);
        assert_eq!(asked, [None, Some("c2".into()), Some("c3".into())]);
    }

    #[test]
    fn the_walk_starts_at_the_given_cursor() {
        let (items, asked) = walk_over(Some("c5"), vec![(Some("c5"), page(&[5], None))]);
        assert_eq!(items, [Ok(5)]);
        assert_eq!(asked, [Some("c5".into())]);
    }

    #[test]
    fn the_walk_stops_after_the_first_error() {
        let (items, asked) = walk_over(
            None,
            vec![
                (None, page(&[1], Some("c2"))),
                (
                    Some("c2"),
                    Err(Error::NotFound {
                        message: Some("gone".into()),
                        error_type: None,
                    }),
                ),
                (Some("c3"), page(&[3], None)),
            ],
        );
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0], Ok(1));
        assert!(items[1].as_ref().unwrap_err().contains("gone"), "{items:?}");
        assert_eq!(asked.len(), 2, "no page after the error is fetched");
    }

    #[test]
    fn a_repeated_cursor_is_an_error_not_an_endless_walk() {
        let (items, asked) = walk_over(
            None,
            vec![
                (None, page(&[1], Some("c2"))),
                (Some("c2"), page(&[1], Some("c2"))),
            ],
        );
        assert_eq!(items.len(), 2, "{items:?}");
        let error = items[1].as_ref().unwrap_err();
        assert!(
            error.contains("test list answer") && error.contains("'c2'"),
            "{error}"
        );
        assert_eq!(asked.len(), 2);
    }

    #[test]
    fn an_empty_list_yields_nothing() {
        let (items, asked) = walk_over(None, vec![(None, page(&[], None))]);
        assert!(items.is_empty());
        assert_eq!(asked, [None]);
    }
}
