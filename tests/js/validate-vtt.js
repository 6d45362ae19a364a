// Parse WebVTT from stdin with the W3C reference parser; print {errors, cues} as JSON.
const fs = require("fs");
const { WebVTTParser } = require("webvtt-parser");
const entities = require("webvtt-parser/html-entities.json");

const tree = new WebVTTParser(entities).parse(fs.readFileSync(0, "utf8"), "subtitles");
const cues = tree.cues.map((c) => ({ start: c.startTime, end: c.endTime, text: c.text }));
process.stdout.write(JSON.stringify({ errors: tree.errors, cues }));
