//! User-agent classification with the OPAWG `user-agents-v2` pattern lists.
//!
//! The lists are vendored in `src/analytics/opawg/` (MIT, see the LICENSE there) and embedded at build time;
//! nothing is read from disk or the network at run time. Matching follows the OPAWG README: the
//! first entry, in file order, of `bots`, then `apps`, then `libraries`, then `browsers`; `devices`
//! is matched on its own, for agents that are not bots.
//!
//! Two rules are ours, on top of the lists:
//! - a `libraries` entry with `"category": "bot"` (`okhttp`, `Go-http-client`, `Dart`, ...) is a
//!   bot: OPAWG marks these as mostly seen on servers, and IAB counting excludes them;
//! - an empty user agent, or one that declares itself a bot (`bot`, `crawl` or `spider` anywhere,
//!   ignoring case), is a bot. The self-declared rule is skipped when an `apps` entry matched, so
//!   an app with such a word in its name (`Tweetbot`) stays an app; a browser or library string
//!   carrying `FooBot/1.0` is still a bot.
//!
//! The patterns are JavaScript regexes. They are compiled with the `regex` crate on bytes with
//! Unicode classes off, which is how JavaScript reads `\d`, `\w` and `\b` without the `u` flag.
//! A pattern that does not compile is skipped (logged once); with the vendored lists none is.
//! Matching uses one `RegexSet` per list, which finds every matching entry in a single pass;
//! the lowest index is the first entry in file order.

use std::sync::LazyLock;

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Deserialize;

/// Lazy-DFA cache limit per set. The apps set (about 560 patterns) thrashes the default 2 MiB
/// cache and falls back to the slow engine; 16 MiB keeps a warm lookup near a microsecond.
/// The cache grows only as states are built, one per classifying thread.
const DFA_SIZE_LIMIT: usize = 16 << 20;

/// What a user agent is, as far as download counting cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agent {
    /// Hits from this agent are not downloads.
    pub bot: bool,
    /// OPAWG entry name from `apps`, `libraries` or `browsers`; `None` for `bots` matches and
    /// unknown agents.
    pub app: Option<String>,
    /// OPAWG `devices` entry name (`"Apple iPhone"`); `None` for bots.
    pub device: Option<String>,
    /// That entry's category (`"mobile"`, `"smart_speaker"`, `"computer"`, ...).
    pub device_category: Option<String>,
}

/// The compiled OPAWG lists. Build once: see [`UserAgents::embedded`].
pub struct UserAgents {
    bots: List,
    apps: List,
    libraries: List,
    browsers: List,
    devices: List,
    self_declared: Regex,
}

impl UserAgents {
    /// The lists vendored in `src/analytics/opawg/`, compiled on first use.
    pub fn embedded() -> &'static UserAgents {
        static AGENTS: LazyLock<UserAgents> = LazyLock::new(|| UserAgents {
            bots: List::parse("bots", include_str!("opawg/bots.json")),
            apps: List::parse("apps", include_str!("opawg/apps.json")),
            libraries: List::parse("libraries", include_str!("opawg/libraries.json")),
            browsers: List::parse("browsers", include_str!("opawg/browsers.json")),
            devices: List::parse("devices", include_str!("opawg/devices.json")),
            self_declared: RegexBuilder::new(r"(?i)bot|crawl|spider")
                .unicode(false)
                .build()
                .expect("self-declared bot pattern compiles"),
        });
        &AGENTS
    }

    /// Classifies one `User-Agent` header value.
    pub fn classify(&self, user_agent: &str) -> Agent {
        // OPAWG: newlines only come from bad actors and are removed before matching.
        let cleaned;
        let ua = if user_agent.contains(['\r', '\n']) {
            cleaned = user_agent.replace(['\r', '\n'], "");
            cleaned.as_str()
        } else {
            user_agent
        };
        // Matched untrimmed, as OPAWG does: some patterns end in `$`.
        let blank = ua.trim().is_empty();
        let ua = ua.as_bytes();
        if blank || self.bots.first(ua).is_some() {
            return Agent {
                bot: true,
                ..Agent::default()
            };
        }
        let (entry, bot) = match self.apps.first(ua) {
            Some(app) => (Some(app), false),
            None => match self.libraries.first(ua).or_else(|| self.browsers.first(ua)) {
                Some(entry) => {
                    let bot =
                        entry.category.as_deref() == Some("bot") || self.self_declared.is_match(ua);
                    (Some(entry), bot)
                }
                None => (None, self.self_declared.is_match(ua)),
            },
        };
        let app = entry.map(|e| e.name.clone());
        if bot {
            return Agent {
                bot,
                app,
                ..Agent::default()
            };
        }
        let device = self.devices.first(ua);
        Agent {
            bot,
            app,
            device: device.map(|d| d.name.clone()),
            device_category: device.and_then(|d| d.category.clone()),
        }
    }
}

/// One OPAWG file: a set of the patterns that compiled, and their entries in the same order.
struct List {
    set: RegexSet,
    entries: Vec<Entry>,
}

struct Entry {
    name: String,
    category: Option<String>,
}

#[derive(Deserialize)]
struct RawFile {
    entries: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    name: String,
    pattern: String,
    category: Option<String>,
}

impl List {
    fn parse(file: &str, json: &str) -> List {
        let raw: RawFile = serde_json::from_str(json).expect("vendored OPAWG file parses");
        let mut patterns = Vec::with_capacity(raw.entries.len());
        let mut entries = Vec::with_capacity(raw.entries.len());
        for RawEntry {
            name,
            pattern,
            category,
        } in raw.entries
        {
            // Checked one by one so that a bad pattern costs its entry, not the whole set.
            match RegexBuilder::new(&pattern).unicode(false).build() {
                Ok(_) => {
                    patterns.push(pattern);
                    entries.push(Entry { name, category });
                }
                Err(error) => {
                    tracing::warn!(file, entry = %name, %error, "OPAWG pattern skipped");
                }
            }
        }
        let set = RegexSetBuilder::new(&patterns)
            .unicode(false)
            .dfa_size_limit(DFA_SIZE_LIMIT)
            .build()
            .expect("OPAWG patterns that compile alone compile as a set");
        List { set, entries }
    }

    /// The first entry, in file order, whose pattern matches.
    fn first(&self, ua: &[u8]) -> Option<&Entry> {
        // Set indices follow file order, and `SetMatches` iterates them in ascending order.
        let index = self.set.matches(ua).iter().next()?;
        Some(&self.entries[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct ExampleFile {
        entries: Vec<ExampleEntry>,
    }

    #[derive(Deserialize)]
    struct ExampleEntry {
        name: String,
        #[serde(default)]
        examples: Vec<String>,
    }

    fn examples(json: &str) -> Vec<(String, String)> {
        let file: ExampleFile = serde_json::from_str(json).unwrap();
        file.entries
            .into_iter()
            .flat_map(|e| e.examples.into_iter().map(move |x| (e.name.clone(), x)))
            .collect()
    }

    fn agents() -> &'static UserAgents {
        UserAgents::embedded()
    }

    #[test]
    fn every_vendored_pattern_compiles() {
        let a = agents();
        let lists = [&a.bots, &a.apps, &a.libraries, &a.browsers, &a.devices];
        let compiled: Vec<usize> = lists.iter().map(|l| l.set.len()).collect();
        let in_files: Vec<usize> = [
            include_str!("opawg/bots.json"),
            include_str!("opawg/apps.json"),
            include_str!("opawg/libraries.json"),
            include_str!("opawg/browsers.json"),
            include_str!("opawg/devices.json"),
        ]
        .iter()
        .map(|json| serde_json::from_str::<RawFile>(json).unwrap().entries.len())
        .collect();
        assert_eq!(compiled, [295, 559, 58, 11, 20]);
        assert_eq!(compiled, in_files, "no pattern skipped");
        assert!(lists.iter().all(|l| l.set.len() == l.entries.len()));
    }

    #[test]
    fn every_bots_example_is_a_bot() {
        let all = examples(include_str!("opawg/bots.json"));
        assert_eq!(all.len(), 342);
        let missed: Vec<_> = all
            .iter()
            .filter(|(_, ua)| !agents().classify(ua).bot)
            .collect();
        assert!(missed.is_empty(), "{missed:?}");
    }

    #[test]
    fn every_apps_example_is_its_own_app() {
        let all = examples(include_str!("opawg/apps.json"));
        assert_eq!(all.len(), 968);
        let mismatched: Vec<_> = all
            .iter()
            .filter(|(name, ua)| {
                let agent = agents().classify(ua);
                agent.bot || agent.app.as_deref() != Some(name.as_str())
            })
            .collect();
        assert!(mismatched.is_empty(), "{mismatched:?}");
    }

    #[test]
    fn libraries_and_browsers_examples_are_their_own_entry() {
        let libraries = examples(include_str!("opawg/libraries.json"));
        let browsers = examples(include_str!("opawg/browsers.json"));
        assert_eq!((libraries.len(), browsers.len()), (77, 33));
        let mismatched: Vec<_> = libraries
            .iter()
            .chain(&browsers)
            .filter(|(name, ua)| agents().classify(ua).app.as_deref() != Some(name.as_str()))
            .collect();
        assert!(mismatched.is_empty(), "{mismatched:?}");
    }

    #[test]
    fn library_marked_bot_is_a_bot_and_keeps_its_name() {
        let agent = agents().classify("okhttp/4.9.0");
        assert_eq!((agent.bot, agent.app.as_deref()), (true, Some("okhttp")));
        assert_eq!(agent.device, None);

        let agent = agents()
            .classify("AppleCoreMedia/1.0.0.21E236 (iPhone; U; CPU OS 17_4 like Mac OS X; en_us)");
        assert_eq!(
            (agent.bot, agent.app.as_deref()),
            (false, Some("AppleCoreMedia"))
        );
    }

    #[test]
    fn empty_and_self_declared_agents_are_bots() {
        for ua in [
            "",
            "   ",
            "\r\n",
            "FooBot/1.0",
            "my-crawler",
            "SPIDER 2",
            "x-bot",
        ] {
            assert!(agents().classify(ua).bot, "{ua:?}");
        }
        let chrome_bot = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 FooBot/1.0";
        assert!(agents().classify(chrome_bot).bot);
    }

    #[test]
    fn apps_named_like_bots_are_apps() {
        let agent = agents().classify("Tweetbot/53300 CFNetwork/1335.0.3 Darwin/21.6.0");
        assert!(!agent.bot);
        assert_eq!(agent.app.as_deref(), Some("Tweetbot"));
    }

    #[test]
    fn devices_are_matched_for_listeners() {
        let agent = agents().classify("AirPodcasts/4022.700.8 CFNetwork/1410.0.3 Darwin/22.6.0");
        assert_eq!(agent.device.as_deref(), Some("Apple HomePod"));
        assert_eq!(agent.device_category.as_deref(), Some("smart_speaker"));

        let agent = agents().classify("Podcasts/1650.20 CFNetwork/1408.0.4 Darwin/22.5.0");
        assert_eq!(agent.app.as_deref(), Some("Apple Podcasts"));
        assert_eq!(agent.device.as_deref(), Some("Apple iPhone"));
        assert_eq!(agent.device_category.as_deref(), Some("mobile"));
    }

    #[test]
    fn unknown_agents_are_neither_bots_nor_apps() {
        let agent = agents().classify("SomethingNew/1.0");
        assert_eq!(agent, Agent::default());
    }

    #[test]
    fn newlines_are_removed_before_matching() {
        let agent = agents().classify("Podcasts/1650.20\n CFNetwork/1408.0.4 Darwin/22.5.0");
        assert_eq!(agent.app.as_deref(), Some("Apple Podcasts"));
    }
}
