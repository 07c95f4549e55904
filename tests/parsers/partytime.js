// Reads an RSS file with the Podcast Index's parser (podcast-partytime, what Podcast Index and
// Podverse use) and prints what it understood, as JSON. Usage: node partytime.js FEED.xml
const { parseFeed } = require("podcast-partytime");
const fs = require("fs");

const feed = parseFeed(fs.readFileSync(process.argv[2], "utf8"), { allowMissingGuid: false });
if (!feed) {
  console.error("podcast-partytime could not parse the feed");
  process.exit(1);
}
const pick = (o, keys) => Object.fromEntries(keys.map((k) => [k, o[k] ?? null]));
console.log(
  JSON.stringify({
    ...pick(feed, [
      "title", "language", "itunesType", "itunesComplete", "itunesImage", "author", "owner",
      "guid", "medium", "locked", "podcastPeople", "podcastLocation", "podcastFunding",
      "license", "podcastImages",
    ]),
    items: feed.items.map((i) =>
      pick(i, [
        "guid", "title", "enclosure", "duration", "itunesSeason", "itunesEpisode",
        "itunesEpisodeType", "content", "podcastPeople", "podcastLocation", "podcastSoundbites",
        "podcastSeason", "podcastEpisode", "podcastTranscripts", "podcastChapters",
        "alternativeEnclosures",
      ])
    ),
  })
);
