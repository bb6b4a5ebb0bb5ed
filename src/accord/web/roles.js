// What the signed-in user's role may do, as the center says it (GET /v1/me: `may`, the
// routes the role may call, read from the routes' own role checks), and the one line under
// the header that says so. Pure: the page gates its controls with may() and prints
// roleLine(); nothing here is a copy of the center's rules that could drift from them.

/** Whether `me` (GET /v1/me) may call `route` ("POST /v1/operations"). */
export function may(me, route) {
  return !!me && Array.isArray(me.may) && me.may.includes(route);
}

const ROLE_NAMES = {
  officer: "Officer",
  approver: "Approver",
  notifier: "Humanitarian notifier",
  monitor: "Monitor",
  admin: "Administrator",
};

/**
 * What the page offers for each route the center allows, in the order the line says it:
 * [routes (all needed), phrase]. A route missing here is left unsaid (the page does not
 * offer it: co-signing heads is the parties' witnesses', tracks come from feeds).
 */
function abilities(me) {
  const party = me.member_kind === "party";
  return [
    [[], operationsPhrase(me), (m) => !!operationsPhrase(m)],
    [["POST /v1/declarations"], party ? "declare positions, sites and movements" : "declare protected sites and movements"],
    [["GET /v1/declarations"], "see each party's receipt of them", (m) => m.member_kind === "notifier" && may(m, "POST /v1/declarations")],
    [["POST /v1/declarations/{declaration_id}/acknowledge"], "acknowledge notifications"],
    [["POST /v1/messages", "POST /v1/messages/{message_id}/acknowledge"], "send and acknowledge direct-line messages"],
    [["POST /v1/reports", "POST /v1/reports/{report_id}/answer"], "file and answer violation reports"],
    [["POST /v1/reports"], "file violation reports", (m) => !may(m, "POST /v1/reports/{report_id}/answer")],
    [["GET /v1/users", "POST /v1/users", "POST /v1/users/{name}/rotate", "DELETE /v1/users/{name}"], `issue, rotate and remove the tokens of ${me.member}'s users`],
    [["GET /v1/keys/registry"], "see the devices' keys", (m) => m.role === "admin"],
    [["GET /v1/record/head"], "read and verify the record", (m) => !acts(m)],
  ];
}

/** Whether the role acts on operations (then its reading goes without saying). */
function acts(me) {
  return may(me, "POST /v1/operations") || may(me, "POST /v1/operations/{op_id}/approve");
}

/** What a role that does not act on operations reads, said first: [route, what]. */
const READS = [
  ["GET /v1/operations", "every operation"],
  ["GET /v1/messages", "the direct line's traffic"],
  ["GET /v1/compliance", "the compliance findings"],
];

/** What the role does to operations, in one phrase ("propose, object to and execute
 * operations"), or "" for nothing. */
function operationsPhrase(me) {
  const verbs = [
    ["POST /v1/operations", "propose"],
    ["POST /v1/operations/{op_id}/approve", "approve"],
    ["POST /v1/operations/{op_id}/veto", "veto"],
    ["POST /v1/operations/{op_id}/object", "object to"],
    ["POST /v1/operations/{op_id}/execute", "execute"],
  ].filter(([route]) => may(me, route)).map(([, verb]) => verb);
  if (!verbs.length) return "";
  const joined = verbs.length === 2 && verbs[0] === "approve" && verbs[1] === "veto" ? "approve or veto" : listed(verbs);
  return `${joined} operations`;
}

/** "a, b and c". */
function listed(items) {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** What this role does not do here that another of its member's roles does, as the center
 * allows it (said only when it is true: the approver is the one who approves). */
function others(me) {
  const out = [];
  if (me.member_kind !== "party") {
    if (me.role === "notifier") out.push("you see nothing of anyone's operations");
    if (me.role === "monitor") out.push("you change nothing else");
    if (me.role === "admin") out.push("signing keys are certified by the member's office, not by you");
    return out;
  }
  if (me.role === "admin") {
    out.push("the declared world is not yours to see; signing keys are certified by the member's office");
    return out;
  }
  if (!may(me, "POST /v1/operations/{op_id}/approve") && may(me, "POST /v1/operations")) out.push(`${me.member}'s approver approves or vetoes`);
  if (may(me, "POST /v1/operations/{op_id}/approve") && !may(me, "POST /v1/operations")) out.push(`${me.member}'s officers propose and declare`);
  return out;
}

/** The one line under the header: who the user is and what the center lets them do. */
export function roleLine(me) {
  if (!me) return "";
  const doing = [];
  const reads = acts(me) || me.role === "notifier" ? [] : READS.filter(([r]) => may(me, r)).map(([, what]) => what);
  if (reads.length) doing.push(`read ${listed(reads)}`);
  for (const [routes, phrase, when] of abilities(me)) {
    if (routes.every((r) => may(me, r)) && (!when || when(me))) doing.push(phrase);
  }
  const who = `${ROLE_NAMES[me.role] || me.role} of ${me.member}`;
  const what = doing.length ? `you ${listed(doing)}` : "you read only";
  const rest = others(me);
  return `${who} — ${what}${rest.length ? `; ${rest.join("; ")}` : ""}.`;
}
