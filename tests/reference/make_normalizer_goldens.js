// Golden tokenizations for normalizer chains (XLM-R's Precompiled + Replace, ALBERT's, NFKC/NFC/NFD
// ones) from Hugging Face tokenizers (npm "tokenizers", the Rust crate's Node binding), on T5's real
// Unigram vocabulary: node make_normalizer_goldens.js t5/tokenizer.json sts-dev.csv out_dir
// Writes out_dir/normalizer_<name>.jsonl: a first line {"variant": {...}} holding the parts that
// replace T5's (a Precompiled step's charsmap written as "T5": the test puts T5's own back), then
// one line per text {"text", "ids", "tokens", "offsets"} (offsets in characters, as Node gives them).
const fs = require("fs");
const os = require("os");
const path = require("path");
const { Tokenizer } = require("tokenizers");
const { stsSentences } = require("./sts_sentences");

const [tokenizerPath, stsPath, outDir] = process.argv.slice(2);

const tricky = [
  "", " ", "   ", "a", "Hello world", "Hello   world  ", "  leading and trailing  ", "two  spaces   three",
  "tab\tseparated\ttext", "new\nline\r\nwindows", "Café résumé naïve", "e\u0301 combining acute",
  "a\u0308\u0301 stacked marks", "a\u0301\u0323 reordered marks", "Straße", "ﬁnancial ﬂow ligatures",
  "ＦＵＬＬ－ＷＩＤＴＨ １２３", "ｶﾀｶﾅ halfwidth", "日本語のテキスト", "中文分词测试", "한국어 텍스트",
  "\u1100\u1161\u11a8 jamo", "Привет, мир!", "Ελληνικά κείμενα", "עברית", "العربية", "हिन्दी", "ไทย",
  "emoji 😀🎉👍🏽", "👨‍👩‍👧 family", "🇫🇷 flag", "control\u0001\u0007chars\u007f", "zero\u200bwidth\u200djoiner",
  "nbsp\u00a0here", "ideographic\u3000space", "em\u2003space", "quotes “smart” ‘single’ ``tex'' style",
  "dashes – — ‐", "ellipsis… and № ™ ½ ²", "Ⅻ roman numerals ⅷ", "℃ ℉ µ Å Ω", "x²+y³=z⁴",
  "<unk> and </s> and <pad>", "UPPER lower MiXeD İstanbul", "numbers 1234567890 3.14159",
  "url https://example.com/a?b=c&d=e", "email someone@example.org", "C++ and C# and F#",
  "don't won't can't", "a.b.c.d", "!!!???...", "supercalifragilisticexpialidocious",
  "\u0000nul", "tilde ~ caret ^ backtick `", "Ǆ ǅ ǆ digraphs", "ﬀ ﬃ ﬄ", "㍿ ㌔", "①②③", "⁰¹²",
  "Ångström ǹ ḱ ṩ", "\u212b\u2126 singletons", "ﷺ ﷻ", "ｱｲｳ ﾊﾟﾋﾟ", "ÅÅ (A + ring) vs Å",
];

const precompiled = { type: "Precompiled", precompiled_charsmap: "T5" };
const metaspace = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true };
const variants = {
  xlmr: {   // xlm-roberta-base and the multilingual sentence-transformers built on it
    normalizer: { type: "Sequence", normalizers: [precompiled, { type: "Replace", pattern: { Regex: " {2,}" }, content: " " }] },
    pre_tokenizer: metaspace,
  },
  albert: {   // albert-base-v2's chain
    normalizer: { type: "Sequence", normalizers: [
      { type: "Replace", pattern: { String: "``" }, content: "\"" },
      { type: "Replace", pattern: { String: "''" }, content: "\"" },
      { type: "NFKD" }, { type: "StripAccents" }, { type: "Lowercase" }, precompiled] },
    pre_tokenizer: metaspace,
  },
  nfkc: {
    normalizer: { type: "Sequence", normalizers: [
      { type: "Strip", strip_left: true, strip_right: true }, { type: "NFKC" }, { type: "Lowercase" },
      { type: "Replace", pattern: { Regex: "\\s+" }, content: " " }] },
    pre_tokenizer: metaspace,
  },
  nfc: { normalizer: { type: "NFC" }, pre_tokenizer: metaspace },
  nfd: { normalizer: { type: "Sequence", normalizers: [{ type: "NFD" }, { type: "Prepend", prepend: "\u2581" }] },
         pre_tokenizer: { type: "Metaspace", replacement: "\u2581", prepend_scheme: "never", split: false } },
};

function withCharsmap(part, charsmap) {
  return JSON.parse(JSON.stringify(part), (k, v) => (k === "precompiled_charsmap" && v === "T5" ? charsmap : v));
}

async function main() {
  const base = JSON.parse(fs.readFileSync(tokenizerPath, "utf8"));
  const charsmap = base.normalizer.precompiled_charsmap;
  const texts = tricky.concat(stsSentences(stsPath).slice(0, 200));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "norm-"));
  for (const [name, variant] of Object.entries(variants)) {
    const json = Object.assign({}, base, withCharsmap(variant, charsmap), { truncation: null, padding: null });
    const file = path.join(dir, name + ".json");
    fs.writeFileSync(file, JSON.stringify(json));
    const tok = Tokenizer.fromFile(file);
    const lines = [JSON.stringify({ variant })];
    for (const text of texts) {
      const e = await tok.encode(text);
      lines.push(JSON.stringify({ text, ids: e.getIds(), tokens: e.getTokens(), offsets: e.getOffsets() }));
    }
    const out = path.join(outDir, "normalizer_" + name + ".jsonl");
    fs.writeFileSync(out, lines.join("\n") + "\n");
    console.error(`${lines.length - 1} lines -> ${out}`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
