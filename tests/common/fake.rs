//! Scripted stand-ins for the model APIs the real assistant CLIs talk to (the only part
//! of the end-to-end tests that is not the real thing: a model API cannot be reached
//! offline). Each server plays a script of tool calls, one per model turn, then a final
//! text, and records every request so tests can check what the model was told.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// Main-loop requests answered before a server stops following its script.
const MAX_TURNS: usize = 40;

/// One scripted model turn.
#[derive(Debug, Clone)]
pub enum Turn {
    /// Call a tool with these arguments.
    Tool(&'static str, Value),
    /// Answer with text and stop.
    Text(&'static str),
}

/// A callback run when the model is asked for turn `n` (0-based), before it answers.
pub type OnTurn = Arc<dyn Fn(usize) + Send + Sync>;

/// A fake model server on 127.0.0.1.
pub struct FakeModel {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Every main-loop request body, in order.
    pub requests: Arc<Mutex<Vec<Value>>>,
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(s: &mut TcpStream) -> Option<Request> {
    let mut r = BufReader::new(s.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Request { method, path, body })
}

fn respond(s: &mut TcpStream, status: &str, ctype: &str, body: &str) {
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.flush();
}

fn serve(handler: impl Fn(Request, &mut TcpStream) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            let h = handler.clone();
            std::thread::spawn(move || {
                if let Some(req) = read_request(&mut s) {
                    h(req, &mut s);
                }
            });
        }
    });
    base
}

fn sse(events: &[(&str, Value)]) -> String {
    events
        .iter()
        .map(|(e, d)| format!("event: {e}\ndata: {d}\n\n"))
        .collect()
}

impl FakeModel {
    /// The Anthropic Messages API as Claude Code uses it (`POST /v1/messages?beta=true`,
    /// streaming). Main-loop requests (those that offer the `Bash` tool) get the next
    /// scripted turn, chosen by how many assistant turns the conversation already has;
    /// side calls get a short text.
    pub fn anthropic(script: Vec<Turn>, on_turn: Option<OnTurn>) -> FakeModel {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let base = serve(move |req, s| {
            if req.method == "HEAD" || !req.path.starts_with("/v1/messages") {
                return respond(s, "200 OK", "application/json", "{}");
            }
            if req.path.starts_with("/v1/messages/count_tokens") {
                return respond(s, "200 OK", "application/json", r#"{"input_tokens":10}"#);
            }
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let main_loop = body["tools"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x["name"] == "Bash"));
            let turn = if main_loop {
                let n = body["messages"]
                    .as_array()
                    .map(|m| m.iter().filter(|x| x["role"] == "assistant").count())
                    .unwrap_or(0);
                let seen = {
                    let mut r = recorded.lock().unwrap();
                    r.push(body.clone());
                    r.len()
                };
                if std::env::var_os("MANDATE_FAKE_DEBUG").is_some() {
                    eprintln!("fake anthropic: request {seen}, turn {n}");
                }
                if let Some(f) = &on_turn {
                    f(n);
                }
                // A runaway client gets a final answer rather than an endless script.
                if seen > MAX_TURNS {
                    Turn::Text("stop")
                } else {
                    script.get(n).cloned().unwrap_or(Turn::Text("done"))
                }
            } else {
                Turn::Text("ok")
            };
            let id = format!("toolu_{:016x}", rand_id());
            let msg_id = format!("msg_{:016x}", rand_id());
            let (block, delta, stop) = match &turn {
                Turn::Tool(name, input) => (
                    json!({"type":"tool_use","id":id,"name":name,"input":{}}),
                    json!({"type":"input_json_delta","partial_json":input.to_string()}),
                    "tool_use",
                ),
                Turn::Text(t) => (
                    json!({"type":"text","text":""}),
                    json!({"type":"text_delta","text":t}),
                    "end_turn",
                ),
            };
            if body["stream"] != true {
                let content = match &turn {
                    Turn::Tool(name, input) => {
                        json!([{"type":"tool_use","id":id,"name":name,"input":input}])
                    }
                    Turn::Text(t) => json!([{"type":"text","text":t}]),
                };
                let msg = json!({"id":msg_id,"type":"message","role":"assistant","model":"claude-sonnet-4-5",
                    "content":content,"stop_reason":stop,"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":5}});
                return respond(s, "200 OK", "application/json", &msg.to_string());
            }
            let events = sse(&[
                (
                    "message_start",
                    json!({"type":"message_start","message":{"id":msg_id,"type":"message","role":"assistant",
                    "model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,
                    "usage":{"input_tokens":10,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}),
                ),
                (
                    "content_block_start",
                    json!({"type":"content_block_start","index":0,"content_block":block}),
                ),
                ("ping", json!({"type":"ping"})),
                (
                    "content_block_delta",
                    json!({"type":"content_block_delta","index":0,"delta":delta}),
                ),
                (
                    "content_block_stop",
                    json!({"type":"content_block_stop","index":0}),
                ),
                (
                    "message_delta",
                    json!({"type":"message_delta","delta":{"stop_reason":stop,"stop_sequence":null},"usage":{"output_tokens":5}}),
                ),
                ("message_stop", json!({"type":"message_stop"})),
            ]);
            respond(s, "200 OK", "text/event-stream", &events);
        });
        FakeModel { base, requests }
    }

    /// The OpenAI Responses API as Codex uses it (`POST /v1/responses`, streaming). The
    /// next turn is chosen by how many `function_call_output` items the input holds.
    pub fn openai_responses(script: Vec<Turn>, on_turn: Option<OnTurn>) -> FakeModel {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let base = serve(move |req, s| {
            if !req.path.starts_with("/v1/responses") {
                return respond(s, "404 Not Found", "application/json", "{}");
            }
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let n = body["input"]
                .as_array()
                .map(|i| {
                    i.iter()
                        .filter(|x| x["type"] == "function_call_output")
                        .count()
                })
                .unwrap_or(0);
            let seen = {
                let mut r = recorded.lock().unwrap();
                r.push(body.clone());
                r.len()
            };
            if let Some(f) = &on_turn {
                f(n);
            }
            let turn = if seen > MAX_TURNS {
                Turn::Text("stop")
            } else {
                script.get(n).cloned().unwrap_or(Turn::Text("done"))
            };
            let item = match &turn {
                Turn::Tool(name, args) => {
                    // `namespace.tool` calls a tool inside a namespace (Codex's sub-agents).
                    let (namespace, name) = match name.split_once('.') {
                        Some((ns, n)) => (Some(ns), n),
                        None => (None, *name),
                    };
                    let mut call = json!({"type":"function_call","id":format!("fc_{:x}", rand_id()),
                    "call_id":format!("call_{:x}", rand_id()),"name":name,"arguments":args.to_string(),"status":"completed"});
                    if let Some(ns) = namespace {
                        call["namespace"] = json!(ns);
                    }
                    call
                }
                Turn::Text(t) => {
                    json!({"type":"message","id":format!("msg_{:x}", rand_id()),"role":"assistant","status":"completed",
                    "content":[{"type":"output_text","text":t,"annotations":[]}]})
                }
            };
            let rid = format!("resp_{:x}", rand_id());
            let events = sse(&[
                (
                    "response.created",
                    json!({"type":"response.created","response":{"id":rid,"object":"response","model":"gpt-5","status":"in_progress","output":[]}}),
                ),
                (
                    "response.output_item.added",
                    json!({"type":"response.output_item.added","output_index":0,"item":item}),
                ),
                (
                    "response.output_item.done",
                    json!({"type":"response.output_item.done","output_index":0,"item":item}),
                ),
                (
                    "response.completed",
                    json!({"type":"response.completed","response":{"id":rid,"object":"response","model":"gpt-5","status":"completed","output":[item],
                    "usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":0},"output_tokens":5,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":15}}}),
                ),
            ]);
            respond(s, "200 OK", "text/event-stream", &events);
        });
        FakeModel { base, requests }
    }

    /// The Gemini API as Gemini CLI uses it with `GOOGLE_GEMINI_BASE_URL`
    /// (`POST /v1beta/models/M:streamGenerateContent?alt=sse`). Main-loop requests (those
    /// that declare functions) get the next scripted turn, chosen by how many function
    /// responses the conversation already has; side calls (the model router's
    /// `generateContent`, token counts) get a short answer.
    pub fn gemini(script: Vec<Turn>) -> FakeModel {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let base = serve(move |req, s| {
            if req.path.contains(":countTokens") {
                return respond(s, "200 OK", "application/json", r#"{"totalTokens":10}"#);
            }
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let declared = body["tools"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x["functionDeclarations"].is_array()));
            let turn = if declared && req.path.contains(":streamGenerateContent") {
                let n = body["contents"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|c| c["parts"].as_array().into_iter().flatten())
                    .filter(|p| p.get("functionResponse").is_some())
                    .count();
                let seen = {
                    let mut r = recorded.lock().unwrap();
                    r.push(body.clone());
                    r.len()
                };
                if seen > MAX_TURNS {
                    Turn::Text("stop")
                } else {
                    script.get(n).cloned().unwrap_or(Turn::Text("done"))
                }
            } else {
                // The router asks for a JSON verdict; anything parseable will do.
                Turn::Text("{}")
            };
            let part = match turn {
                Turn::Tool(name, args) => json!({"functionCall": {"name": name, "args": args}}),
                Turn::Text(text) => json!({"text": text}),
            };
            let answer = json!({"candidates": [{"content": {"parts": [part], "role": "model"},
                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}});
            if req.path.contains(":streamGenerateContent") {
                respond(
                    s,
                    "200 OK",
                    "text/event-stream",
                    &format!("data: {answer}\r\n\r\n"),
                );
            } else {
                respond(s, "200 OK", "application/json", &answer.to_string());
            }
        });
        FakeModel { base, requests }
    }

    /// The names of the tools the client declared in its first main-loop request, in
    /// the Anthropic (`tools[].name`), Gemini (`tools[].functionDeclarations[].name`) or
    /// OpenAI (`tools[].name`, `.function.name`, a namespace's `tools[]`, a hosted tool's
    /// `type`) shape.
    pub fn first_request_tools(&self) -> Vec<String> {
        let requests = self.requests.lock().unwrap();
        let Some(first) = requests.first() else {
            return Vec::new();
        };
        let mut names = Vec::new();
        for t in first["tools"].as_array().into_iter().flatten() {
            tool_names(t, &mut names);
        }
        names
    }

    /// The texts of every tool result the model was sent (Anthropic and Responses shapes).
    pub fn tool_results(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in self.requests.lock().unwrap().iter() {
            for m in r["messages"].as_array().into_iter().flatten() {
                for c in m["content"].as_array().into_iter().flatten() {
                    if c["type"] == "tool_result" {
                        out.push(match &c["content"] {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        });
                    }
                }
            }
            for i in r["input"].as_array().into_iter().flatten() {
                if i["type"] == "function_call_output" {
                    out.push(i["output"].to_string());
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

fn tool_names(t: &Value, out: &mut Vec<String>) {
    if let Some(decls) = t["functionDeclarations"].as_array() {
        out.extend(
            decls
                .iter()
                .filter_map(|d| d["name"].as_str())
                .map(str::to_owned),
        );
    } else if let Some(inner) = t["tools"].as_array() {
        for i in inner {
            tool_names(i, out);
        }
    } else if let Some(n) = t["name"]
        .as_str()
        .or_else(|| t["function"]["name"].as_str())
        .or_else(|| t["type"].as_str())
    {
        out.push(n.to_owned());
    }
}

/// A Gemini CLI `--fake-responses` file: one model turn per line.
pub fn gemini_responses(script: &[Turn]) -> String {
    let mut out = String::new();
    for t in script
        .iter()
        .cloned()
        .chain(std::iter::once(Turn::Text("done")))
    {
        let part = match t {
            Turn::Tool(name, args) => json!({"functionCall": {"name": name, "args": args}}),
            Turn::Text(text) => json!({"text": text}),
        };
        let line = json!({"method": "generateContentStream", "response": [{"candidates": [{"content": {"parts": [part], "role": "model"},
            "finishReason": "STOP", "index": 0}], "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}}]});
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ N.fetch_add(0x9e37_79b9, Ordering::Relaxed)
}
