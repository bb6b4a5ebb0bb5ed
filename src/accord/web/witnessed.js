// Whether the served head is witnessed, said plainly: "witnessed by blue, red at
// YYYY-MM-DD HH:MM:SSZ", or which party's witness is behind and since when
// (GET /v1/record/head: witnesses, witnessed, witnessed_at, last_witnessed; times in seconds).

import { fmtInstant } from "./time.js";

const at = (seconds) => fmtInstant(seconds * 1000);

/** One sentence about the witnesses of `head` (an answer of GET /v1/record/head). */
export function witnessedText(head) {
  const witnesses = head.witnesses || [];
  if (!witnesses.length) return "no witness is named in the agreement";
  const parties = witnesses.map((w) => w.party).join(", ");
  if (head.witnessed) return `witnessed by ${parties} at ${at(head.witnessed_at)}`;
  const behind = witnesses.filter((w) => !w.cosigned).map((w) => {
    const last = w.size ? `it last cosigned ${w.size} entries at ${at(w.cosigned_at)}` : "it has cosigned nothing yet";
    const why = w.error ? `; last request: ${w.error}` : "";
    return `${w.party}'s witness is behind since ${at(w.behind_since)} (${last}${why})`;
  });
  const before = head.last_witnessed
    ? `; ${head.last_witnessed.size} entries were witnessed by ${parties} at ${at(head.last_witnessed.at)}`
    : "";
  return `not yet witnessed: ${behind.join("; ")}${before}`;
}
