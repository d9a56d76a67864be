// Golden Unigram tokenizations from Hugging Face tokenizers (npm "tokenizers", the Rust crate's
// Node binding): node make_unigram_goldens.js tokenizer.json sts-dev.csv out.jsonl
// Each output line: {"text", "ids", "tokens"} of encode(text) with the file's special tokens.
// The file's own truncation and padding are switched off: the tests compare untruncated encodings.
const fs = require("fs");
const os = require("os");
const path = require("path");
const { Tokenizer } = require("tokenizers");
const { stsSentences } = require("./sts_sentences");

const [tokenizerPath, stsPath, outPath] = process.argv.slice(2);

const tricky = [
  "", " ", "   ", "a", "Hello world", "Hello   world  ", "  leading and trailing  ",
  "tab\tseparated\ttext", "new\nline\r\nwindows", "Café résumé naïve", "e\u0301 combining acute",
  "a\u0308\u0301 stacked marks", "Straße", "ﬁnancial ﬂow ligatures", "ＦＵＬＬ－ＷＩＤＴＨ １２３",
  "ｶﾀｶﾅ halfwidth", "日本語のテキスト", "中文分词测试", "한국어 텍스트", "Привет, мир!",
  "Ελληνικά κείμενα", "עברית", "العربية", "हिन्दी", "ไทย", "emoji 😀🎉👍🏽", "👨‍👩‍👧 family",
  "🇫🇷 flag", "control\u0001\u0007chars\u007f", "zero\u200bwidth\u200djoiner", "nbsp\u00a0here",
  "ideographic\u3000space", "em\u2003space", "quotes “smart” ‘single’", "dashes – — ‐",
  "ellipsis… and № ™ ½ ²", "Ⅻ roman numerals ⅷ", "℃ ℉ µ Å", "x²+y³=z⁴", "<unk> and </s> and <pad>",
  "UPPER lower MiXeD", "numbers 1234567890 3.14159", "url https://example.com/a?b=c&d=e",
  "email someone@example.org", "C++ and C# and F#", "don't won't can't", "a.b.c.d", "!!!???...",
  "supercalifragilisticexpialidocious", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "\u0000nul", "tilde ~ caret ^ backtick `", "Ǆ ǅ ǆ digraphs", "ﬀ ﬃ ﬄ", "㍿ ㌔", "①②③", "⁰¹²",
];

async function main() {
  const json = JSON.parse(fs.readFileSync(tokenizerPath, "utf8"));
  json.truncation = null;
  json.padding = null;
  const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "uni-")), "tokenizer.json");
  fs.writeFileSync(tmp, JSON.stringify(json));
  const tok = Tokenizer.fromFile(tmp);
  const texts = tricky.concat(stsSentences(stsPath).slice(0, 300));
  const lines = [];
  for (const text of texts) {
    const e = await tok.encode(text);
    lines.push(JSON.stringify({ text, ids: e.getIds(), tokens: e.getTokens() }));
  }
  fs.writeFileSync(outPath, lines.join("\n") + "\n");
  console.error(`${lines.length} lines -> ${outPath}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
