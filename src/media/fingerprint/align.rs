//! Where a clip's fingerprint lies in stored ones: pure, on items only.
//!
//! Two steps. `candidates` turns the index's answers (postings: a stored fingerprint and an
//! item's position, under a key the clip looked up) into votes for alignments — "clip item `i`
//! is source item `i + offset`" — and keeps the best-voted. `align` then compares the clip with
//! each candidate alignment bit by bit, item by item: the bit error rate over a sliding window of
//! `window` items says, at each point of the clip, which alignment (if any) it follows. Runs of
//! one alignment are the clip's stretches; what follows none is unmatched. A stretch's score is
//! 1 − its bit error rate over its whole length (0.5 for unrelated audio, near 1 for the same).
//!
//! Chromaprint's items each describe about two seconds of audio around them, so at a cut or a
//! splice a second or so of items follows neither side: short gaps between stretches are split
//! between their neighbours, not reported as unmatched (`absorb`).

use std::collections::HashMap;

/// One alignment of the clip with a stored fingerprint: clip item `i` is item `i + offset` of
/// source `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Candidate {
    pub source: u64,
    pub offset: i64,
}

/// The tuning of `candidates` and `align`, chosen from measurements (docs/verification.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Alignments kept for comparison.
    pub max_candidates: usize,
    /// Votes an alignment needs (its own and its two neighbours') to be compared at all.
    pub min_votes: u32,
    /// Items in the sliding window of the bit error rate.
    pub window: usize,
    /// The windowed bit error rate at or under which a point of the clip follows an alignment.
    pub max_window_ber: f32,
    /// Items a stretch must last (shorter runs are noise).
    pub min_run: usize,
    /// Gaps of at most this many items between stretches (or at the clip's ends) are split
    /// between their neighbours.
    pub absorb: usize,
    /// The least score (1 − bit error rate over the stretch) a stretch is reported with.
    pub min_score: f32,
    /// Consecutive stretches of one source whose offsets differ by at most this many items are
    /// one stretch (the alignment's drift, not a cut).
    pub merge_offset: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_candidates: 32,
            min_votes: 4,
            window: 16,
            max_window_ber: 0.30,
            min_run: 16,
            absorb: 20,
            min_score: 0.75,
            merge_offset: 4,
        }
    }
}

/// The best-voted alignments for a clip, best first. `lookups` are the clip's keys with the
/// clip positions each comes from (`super::lookup_keys`); `postings` the index's answers:
/// (key, source, position in the source).
pub fn candidates(
    lookups: &[(i64, Vec<u32>)],
    postings: impl IntoIterator<Item = (i64, u64, u32)>,
    params: &Params,
) -> Vec<(Candidate, u32)> {
    let by_key: HashMap<i64, &[u32]> = lookups.iter().map(|(k, p)| (*k, p.as_slice())).collect();
    // One vote per (posting, clip position of its key), counted by sorting: an index of a
    // thousand hours answers a 30-s clip with a few hundred thousand of them, where a hash map
    // of counters cost twice the time.
    let mut votes: Vec<(u64, i64)> = Vec::new();
    for (key, source, pos) in postings {
        let Some(clip_positions) = by_key.get(&key) else {
            continue;
        };
        votes.extend(
            clip_positions
                .iter()
                .map(|&clip_pos| (source, i64::from(pos) - i64::from(clip_pos))),
        );
    }
    votes.sort_unstable();
    let mut counted: Vec<(Candidate, u32)> = Vec::new();
    for (source, offset) in votes {
        match counted.last_mut() {
            Some((c, n)) if c.source == source && c.offset == offset => *n += 1,
            _ => counted.push((Candidate { source, offset }, 1)),
        }
    }
    // An alignment's neighbours count with it: a clip cut between two of the source's items
    // votes for both. `counted` is in (source, offset) order, so they are beside it.
    let adjacent = |i: usize, j: Option<usize>| -> u32 {
        j.and_then(|j| counted.get(j))
            .filter(|(n, _)| {
                n.source == counted[i].0.source && (n.offset - counted[i].0.offset).abs() == 1
            })
            .map_or(0, |(_, v)| *v)
    };
    let mut ranked: Vec<(Candidate, u32)> = (0..counted.len())
        .map(|i| {
            let near = counted[i].1 + adjacent(i, i.checked_sub(1)) + adjacent(i, Some(i + 1));
            (counted[i].0, near)
        })
        .filter(|(_, v)| *v >= params.min_votes)
        .collect();
    ranked.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(a.0.source.cmp(&b.0.source))
            .then(a.0.offset.cmp(&b.0.offset))
    });
    // Keep local maxima only: a neighbour of a kept alignment is compared anyway (`align`
    // tries each candidate's neighbours).
    let mut kept: Vec<(Candidate, u32)> = Vec::new();
    for (c, v) in ranked {
        if kept
            .iter()
            .any(|(k, _)| k.source == c.source && (k.offset - c.offset).abs() <= 2)
        {
            continue;
        }
        kept.push((c, v));
        if kept.len() == params.max_candidates {
            break;
        }
    }
    kept
}

/// The items of a stored fingerprint that a lookup compares: `items` are the source's items
/// from position `from` on (a lookup reads only the stretch its candidates cover).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Window {
    pub from: usize,
    pub items: Vec<u32>,
}

impl Window {
    /// A whole fingerprint.
    pub fn whole(items: Vec<u32>) -> Window {
        Window { from: 0, items }
    }

    /// The source's item at `at`, if this window holds it.
    fn get(&self, at: usize) -> Option<u32> {
        self.items.get(at.checked_sub(self.from)?).copied()
    }
}

/// The windows `align` reads for `candidates` with a clip of `clip_len` items: for each source,
/// (source, first item, item count) covering every candidate's alignment and its two
/// neighbours, in the order sources first appear.
pub fn windows_for(candidates: &[Candidate], clip_len: usize) -> Vec<(u64, usize, usize)> {
    let mut spans: Vec<(u64, i64, i64)> = Vec::new();
    for c in candidates {
        let (lo, hi) = (c.offset - 1, c.offset + 1 + clip_len as i64);
        match spans.iter_mut().find(|(s, _, _)| *s == c.source) {
            Some((_, from, to)) => {
                *from = (*from).min(lo);
                *to = (*to).max(hi);
            }
            None => spans.push((c.source, lo, hi)),
        }
    }
    spans
        .into_iter()
        .filter(|(_, _, to)| *to > 0)
        .map(|(s, from, to)| {
            let from = from.max(0);
            (s, from as usize, (to - from) as usize)
        })
        .collect()
}

/// A stretch of the clip that follows one alignment, in clip items `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    pub source: u64,
    pub offset: i64,
    pub start: usize,
    pub end: usize,
    /// 1 − the bit error rate between the clip and the source over the stretch.
    pub score: f32,
}

/// How the clip lies in the sources: its stretches and what of it matches nothing, both in clip
/// order, in clip items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Alignment {
    pub runs: Vec<Run>,
    pub unmatched: Vec<(usize, usize)>,
}

/// Aligns `clip` with the `candidates` (each tried at its offset and the two beside it) in
/// `sources` (source id → the window of its items the candidates cover); see the module's
/// comment.
pub fn align(
    clip: &[u32],
    sources: &HashMap<u64, Window>,
    candidates: &[Candidate],
    params: &Params,
) -> Alignment {
    let n = clip.len();
    if n == 0 {
        return Alignment::default();
    }
    // Each candidate with its neighbours, one cluster each.
    let mut members: Vec<(usize, Candidate)> = Vec::new();
    for (cluster, c) in candidates.iter().enumerate() {
        if !sources.contains_key(&c.source) {
            continue;
        }
        for d in -1..=1 {
            members.push((
                cluster,
                Candidate {
                    source: c.source,
                    offset: c.offset + d,
                },
            ));
        }
    }
    let errors: Vec<Vec<Option<u32>>> = members
        .iter()
        .map(|(_, c)| bit_errors(clip, &sources[&c.source], c.offset))
        .collect();
    let windowed: Vec<Vec<Option<f32>>> = errors
        .iter()
        .map(|e| windowed_ber(e, params.window))
        .collect();

    // At each point, the cluster the clip follows best there, if any follows it well enough.
    let mut follows: Vec<Option<usize>> = (0..n)
        .map(|i| {
            (0..members.len())
                .filter_map(|m| windowed[m][i].map(|ber| (m, ber)))
                .filter(|(_, ber)| *ber <= params.max_window_ber)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(m, _)| members[m].0)
        })
        .collect();

    // Runs too short to mean anything follow nothing; then gaps are split or left unmatched.
    for (cluster, start, end) in runs_of(&follows) {
        if cluster.is_some() && end - start < params.min_run {
            follows[start..end].fill(None);
        }
    }
    absorb_gaps(&mut follows, params.absorb);

    let mut alignment = Alignment::default();
    for (cluster, start, end) in runs_of(&follows) {
        let Some(cluster) = cluster else {
            alignment.unmatched.push((start, end));
            continue;
        };
        // The member (offset) that fits the whole stretch best.
        let best = members
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| *c == cluster)
            .filter_map(|(m, (_, cand))| ber_over(&errors[m][start..end]).map(|ber| (*cand, ber)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((cand, ber)) if 1.0 - ber >= params.min_score => alignment.runs.push(Run {
                source: cand.source,
                offset: cand.offset,
                start,
                end,
                score: 1.0 - ber,
            }),
            _ => alignment.unmatched.push((start, end)),
        }
    }
    merge_unmatched(&mut alignment.unmatched);
    alignment.runs = merge_near(std::mem::take(&mut alignment.runs), params.merge_offset);
    alignment
}

/// Joins consecutive runs of one source whose offsets differ by at most `within` items (one
/// stretch the alignment drifted along), keeping the longer one's offset and the scores'
/// length-weighted mean.
fn merge_near(runs: Vec<Run>, within: i64) -> Vec<Run> {
    let mut merged: Vec<Run> = Vec::new();
    for run in runs {
        match merged.last_mut() {
            Some(last)
                if last.source == run.source
                    && last.end == run.start
                    && (last.offset - run.offset).abs() <= within =>
            {
                let (a, b) = ((last.end - last.start) as f32, (run.end - run.start) as f32);
                last.score = (last.score * a + run.score * b) / (a + b);
                if b > a {
                    last.offset = run.offset;
                }
                last.end = run.end;
            }
            _ => merged.push(run),
        }
    }
    merged
}

/// Differing bits between each clip item and the source item it is aligned with (`None` where
/// the alignment leaves the source).
fn bit_errors(clip: &[u32], source: &Window, offset: i64) -> Vec<Option<u32>> {
    clip.iter()
        .enumerate()
        .map(|(i, &item)| {
            let at = usize::try_from(i as i64 + offset).ok()?;
            source.get(at).map(|s| (s ^ item).count_ones())
        })
        .collect()
}

/// The bit error rate over a window centred on each item; `None` where fewer than half the
/// window's items are aligned.
fn windowed_ber(errors: &[Option<u32>], window: usize) -> Vec<Option<f32>> {
    let n = errors.len();
    let half = window / 2;
    let mut sums = vec![(0u64, 0u64); n + 1];
    for (i, e) in errors.iter().enumerate() {
        let (s, c) = sums[i];
        sums[i + 1] = match e {
            Some(bits) => (s + u64::from(*bits), c + 1),
            None => (s, c),
        };
    }
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + window - half).min(n);
            let bits = sums[hi].0 - sums[lo].0;
            let count = sums[hi].1 - sums[lo].1;
            // Near the clip's ends the window is shorter: half of a full one is enough.
            let needed = (window / 2).min(n) as u64;
            (count >= needed.max(1)).then(|| bits as f32 / (count as f32 * 32.0))
        })
        .collect()
}

fn ber_over(errors: &[Option<u32>]) -> Option<f32> {
    let (bits, count) = errors
        .iter()
        .flatten()
        .fold((0u64, 0u64), |(b, c), e| (b + u64::from(*e), c + 1));
    (count > 0).then(|| bits as f32 / (count as f32 * 32.0))
}

/// Maximal runs of equal values: (value, start, end).
fn runs_of(follows: &[Option<usize>]) -> Vec<(Option<usize>, usize, usize)> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=follows.len() {
        if i == follows.len() || follows[i] != follows[start] {
            runs.push((follows[start], start, i));
            start = i;
        }
    }
    runs
}

/// Splits gaps of at most `absorb` items between their neighbours (a gap between two runs of
/// one cluster joins them), and extends the first and last runs over short gaps at the ends.
fn absorb_gaps(follows: &mut [Option<usize>], absorb: usize) {
    let n = follows.len();
    for (value, start, end) in runs_of(follows) {
        if value.is_some() || end - start > absorb {
            continue;
        }
        let before = start.checked_sub(1).and_then(|i| follows[i]);
        let after = follows.get(end).copied().flatten();
        match (before, after) {
            (Some(b), Some(a)) => {
                let mid = start + (end - start) / 2;
                follows[start..mid].fill(Some(b));
                follows[mid..end].fill(Some(a));
            }
            (Some(b), None) if end == n => follows[start..end].fill(Some(b)),
            (None, Some(a)) if start == 0 => follows[start..end].fill(Some(a)),
            _ => {}
        }
    }
}

fn merge_unmatched(spans: &mut Vec<(usize, usize)>) {
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for &(s, e) in spans.iter() {
        match merged.last_mut() {
            Some(last) if last.1 >= s => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *spans = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible "fingerprint": items from a simple generator.
    fn items(seed: u64, n: usize) -> Vec<u32> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u32
            })
            .collect()
    }

    /// `items` with `flips` of every item's 32 bits inverted (a degraded copy).
    fn degraded(clean: &[u32], flips: u32, seed: u64) -> Vec<u32> {
        let noise = items(seed, clean.len() * flips as usize);
        clean
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                (0..flips as usize).fold(v, |v, f| v ^ (1 << (noise[i * flips as usize + f] % 32)))
            })
            .collect()
    }

    fn sources(list: &[(u64, Vec<u32>)]) -> HashMap<u64, Window> {
        list.iter()
            .map(|(id, items)| (*id, Window::whole(items.clone())))
            .collect()
    }

    fn votes_for(clip: &[u32], srcs: &HashMap<u64, Window>) -> Vec<Candidate> {
        let lookups = super::super::lookup_keys(clip);
        let mut postings = Vec::new();
        for (id, window) in srcs {
            for (key, pos) in super::super::index_keys(&window.items) {
                postings.push((key, *id, pos));
            }
        }
        candidates(&lookups, postings, &Params::default())
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    #[test]
    fn a_degraded_excerpt_is_found_at_its_offset() {
        let srcs = sources(&[(1, items(1, 1500)), (2, items(2, 1500))]);
        let clip = degraded(&srcs[&2].items[400..480], 3, 9);
        let cands = votes_for(&clip, &srcs);
        assert_eq!(
            cands[0],
            Candidate {
                source: 2,
                offset: 400
            }
        );
        let a = align(&clip, &srcs, &cands, &Params::default());
        assert_eq!(a.runs.len(), 1, "{a:?}");
        let run = a.runs[0];
        assert_eq!(
            (run.source, run.offset, run.start, run.end),
            (2, 400, 0, 80)
        );
        assert!(run.score > 0.85 && run.score < 0.95, "{}", run.score);
        assert!(a.unmatched.is_empty());

        // Only the windows the candidates cover, as a lookup reads them, align the same.
        let windows: HashMap<u64, Window> = windows_for(&cands, clip.len())
            .into_iter()
            .map(|(id, from, count)| {
                let items = &srcs[&id].items;
                let to = (from + count).min(items.len());
                (
                    id,
                    Window {
                        from,
                        items: items[from..to].to_vec(),
                    },
                )
            })
            .collect();
        assert_eq!(align(&clip, &windows, &cands, &Params::default()), a);
    }

    #[test]
    fn windows_cover_each_candidate_and_its_neighbours() {
        let c = |source, offset| Candidate { source, offset };
        assert_eq!(
            windows_for(&[c(1, 100), c(2, -5), c(1, 90), c(3, -200)], 50),
            vec![(1, 89, 62), (2, 0, 46)]
        );
    }

    #[test]
    fn unrelated_items_match_nothing() {
        let srcs = sources(&[(1, items(1, 3000))]);
        let clip = items(77, 160);
        let cands = votes_for(&clip, &srcs);
        let a = align(&clip, &srcs, &cands, &Params::default());
        assert!(a.runs.is_empty(), "{a:?}");
        assert_eq!(a.unmatched, vec![(0, 160)]);
    }

    #[test]
    fn a_splice_gives_two_runs_and_a_cut_keeps_its_place() {
        let srcs = sources(&[(1, items(1, 2000)), (2, items(2, 2000))]);
        // 60 items of source 1 from 100, then 60 of source 2 from 900.
        let mut clip = srcs[&1].items[100..160].to_vec();
        clip.extend_from_slice(&srcs[&2].items[900..960]);
        let clip = degraded(&clip, 2, 5);
        let a = align(&clip, &srcs, &votes_for(&clip, &srcs), &Params::default());
        let got: Vec<_> = a
            .runs
            .iter()
            .map(|r| (r.source, r.offset, r.start, r.end))
            .collect();
        assert_eq!(got, vec![(1, 100, 0, 60), (2, 840, 60, 120)]);

        // One source with 24 items (3 s) skipped after 50.
        let mut clip = srcs[&1].items[500..550].to_vec();
        clip.extend_from_slice(&srcs[&1].items[574..624]);
        let a = align(&clip, &srcs, &votes_for(&clip, &srcs), &Params::default());
        let got: Vec<_> = a
            .runs
            .iter()
            .map(|r| (r.source, r.offset, r.start, r.end))
            .collect();
        assert_eq!(got.len(), 2, "{a:?}");
        assert_eq!((got[0].0, got[0].1, got[0].2), (1, 500, 0));
        assert_eq!((got[1].0, got[1].1, got[1].3), (1, 524, 100));
        // The boundary within two items (a quarter of a second) of the cut.
        assert!(
            got[0].3.abs_diff(50) <= 2 && got[0].3 == got[1].2,
            "{got:?}"
        );
    }

    #[test]
    fn inserted_items_are_unmatched() {
        let srcs = sources(&[(1, items(1, 2000))]);
        let mut clip = srcs[&1].items[100..150].to_vec();
        clip.extend(items(99, 40));
        clip.extend_from_slice(&srcs[&1].items[150..200]);
        let a = align(&clip, &srcs, &votes_for(&clip, &srcs), &Params::default());
        let got: Vec<_> = a.runs.iter().map(|r| (r.offset, r.start, r.end)).collect();
        assert_eq!(got.len(), 2, "{a:?}");
        assert_eq!((got[0].0, got[0].1, got[1].0, got[1].2), (100, 0, 60, 140));
        // The inserted items' edges within three items of where they are.
        let (s, e) = a.unmatched[0];
        assert!(
            s.abs_diff(50) <= 3 && e.abs_diff(90) <= 3 && a.unmatched.len() == 1,
            "{a:?}"
        );
        assert_eq!((got[0].2, got[1].1), (s, e));
    }

    #[test]
    fn short_gaps_are_split_between_neighbours() {
        let mut follows = vec![Some(0); 10];
        follows.extend([None; 4]);
        follows.extend([Some(1); 10]);
        follows.extend([None; 3]);
        absorb_gaps(&mut follows, 5);
        assert_eq!(&follows[10..14], &[Some(0), Some(0), Some(1), Some(1)]);
        assert_eq!(follows[26], Some(1));
    }
}
