// The sentences of an STS Benchmark file (both of each pair, in file order), for golden scripts.
const fs = require("fs");

function stsSentences(file) {
  const out = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const f = line.split("\t");
    if (f.length >= 7) out.push(f[5], f[6]);
  }
  return out;
}

module.exports = { stsSentences };
