//! A response's header fields in one text buffer, with where each ends.

use std::fmt;
use std::ops::Range;

/// What joins the values of a repeated header, as httplib2 does.
pub(crate) const SEPARATOR: &str = ", ";

/// Header fields in order: names lower-cased, a repeated name once with its values joined.
///
/// One text buffer rather than a string pair per field, for what it measurably buys: a
/// response from nginx has about ten fields, which as pairs cost ten allocations and about
/// 750 bytes, and here two and about 340. With 100,000 GETs made at once and every result
/// kept (`benches/peers/run.sh --scenarios all-at-once`), it took asynchttp's peak RSS
/// from 181 MiB to 130 MiB and its CPU from 115 to 91 µs per request (commit 31c03e4).
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct Fields {
    /// Each field's name, then its value, then the next field's name: no separators, no
    /// gaps. Fields are found through `ends`.
    text: String,
    /// Where each field's name and value end in `text`; a field starts where the one
    /// before it ends.
    ends: Vec<(usize, usize)>,
    /// For each name received more than once, the length of each of its values in the
    /// joined text, in order: `get_all` cuts them back out, so the text is never kept
    /// twice. Empty unless a header was repeated.
    repeated: Vec<(String, Vec<usize>)>,
}

impl Fields {
    /// Room for `fields` fields holding `text` bytes of names and values together.
    pub(crate) fn with_capacity(fields: usize, text: usize) -> Self {
        Fields {
            text: String::with_capacity(text),
            ends: Vec::with_capacity(fields),
            repeated: Vec::new(),
        }
    }

    /// The `(name, value)` of each field, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..self.ends.len()).map(|i| (self.name(i), self.value(i)))
    }

    /// The value of the field with this name, in any case.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.position(name).map(|i| self.value(i))
    }

    /// Each value of a header, as received on its own field line.
    pub(crate) fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + use<'a> {
        let joined = self.get(name);
        // A header seen once is its whole text; a repeated one, its values cut out of it.
        let (whole, lengths) = match self.lengths(name) {
            Some(lengths) => (None, lengths),
            None => (joined, &[][..]),
        };
        let joined = joined.unwrap_or_default();
        let cut = lengths.iter().scan(0, move |start, &len| {
            let value = joined.get(*start..*start + len)?;
            *start += len + SEPARATOR.len();
            Some(value)
        });
        whole.into_iter().chain(cut)
    }

    /// Adds a field at the end. The caller knows no field has this name yet.
    pub(crate) fn push(&mut self, name: &str, value: &str) {
        self.push_joined(name, [value]);
    }

    /// Adds a field at the end with these values, as if received on a line each. The
    /// caller knows no field has this name yet, and gives at least one value.
    pub(crate) fn push_joined<S: AsRef<str>>(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = S>,
    ) {
        let start = self.text.len();
        self.text.push_str(name);
        self.text[start..].make_ascii_lowercase();
        let name_end = self.text.len();
        // The lengths are noted only if there is more than one value.
        let mut values = values.into_iter();
        let mut lengths = Vec::new();
        if let Some(first) = values.next() {
            self.text.push_str(first.as_ref());
            for value in values {
                if lengths.is_empty() {
                    lengths.push(self.text.len() - name_end);
                }
                self.text.push_str(SEPARATOR);
                self.text.push_str(value.as_ref());
                lengths.push(value.as_ref().len());
            }
        }
        self.ends.push((name_end, self.text.len()));
        if !lengths.is_empty() {
            let name = self.text[start..name_end].to_owned();
            self.repeated.push((name, lengths));
        }
    }

    /// Sets a header, replacing every value it had; adds it at the end if absent.
    pub(crate) fn insert(&mut self, name: &str, value: &str) {
        match self.position(name) {
            Some(i) => {
                let (from, to) = self.value_range(i);
                self.replace(i, from..to, value);
                self.forget_repeats(name);
            }
            None => self.push(name, value),
        }
    }

    /// Adds a value to a header as another field line; adds the header if absent.
    pub(crate) fn append(&mut self, name: &str, value: &str) {
        let Some(i) = self.position(name) else {
            return self.push(name, value);
        };
        // Where each value ends in the joined text is noted only from the second value on.
        let (from, to) = self.value_range(i);
        let before = to - from;
        let mut added = String::with_capacity(SEPARATOR.len() + value.len());
        added.push_str(SEPARATOR);
        added.push_str(value);
        self.replace(i, to..to, &added);
        let key = self.name(i).to_owned();
        match self.repeated.iter_mut().find(|(k, _)| *k == key) {
            Some((_, lengths)) => lengths.push(value.len()),
            None => self.repeated.push((key, vec![before, value.len()])),
        }
    }

    /// Removes a header and returns its value.
    pub(crate) fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.position(name)?;
        let (from, to) = self.value_range(i);
        let value = self.text[from..to].to_owned();
        let start = self.start(i);
        self.text.replace_range(start..to, "");
        self.ends.remove(i);
        self.shift(i, |end| end - (to - start));
        self.forget_repeats(name);
        Some(value)
    }

    /// True if the text holds the fields and nothing else.
    #[cfg(test)]
    pub(crate) fn is_packed(&self) -> bool {
        let used: usize = self
            .iter()
            .map(|(name, value)| name.len() + value.len())
            .sum();
        used == self.text.len()
    }

    /// True once some header was given more than one value.
    #[cfg(test)]
    pub(crate) fn notes_repeats(&self) -> bool {
        !self.repeated.is_empty()
    }

    /// The lengths of the values of a header received more than once.
    fn lengths(&self, name: &str) -> Option<&[usize]> {
        self.repeated
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, lengths)| lengths.as_slice())
    }

    /// Called when a header's joined text is replaced or removed.
    fn forget_repeats(&mut self, name: &str) {
        self.repeated.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    /// Replaces `range` of the text, which lies within the value of field `i`, and moves
    /// the end of that value and every later field by the change in length.
    fn replace(&mut self, i: usize, range: Range<usize>, with: &str) {
        let (removed, added) = (range.len(), with.len());
        self.text.replace_range(range, with);
        self.ends[i].1 = self.ends[i].1 - removed + added;
        self.shift(i + 1, |end| end - removed + added);
    }

    /// Moves the ends of the fields from `i` on with `moved`.
    fn shift(&mut self, i: usize, moved: impl Fn(usize) -> usize) {
        for (name_end, value_end) in &mut self.ends[i..] {
            *name_end = moved(*name_end);
            *value_end = moved(*value_end);
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        (0..self.ends.len()).find(|&i| self.name(i).eq_ignore_ascii_case(name))
    }

    fn start(&self, i: usize) -> usize {
        match i {
            0 => 0,
            _ => self.ends[i - 1].1,
        }
    }

    fn name(&self, i: usize) -> &str {
        &self.text[self.start(i)..self.ends[i].0]
    }

    fn value_range(&self, i: usize) -> (usize, usize) {
        self.ends[i]
    }

    fn value(&self, i: usize) -> &str {
        let (from, to) = self.value_range(i);
        &self.text[from..to]
    }
}

/// As a list of `(name, value)`, the way it reads.
impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
