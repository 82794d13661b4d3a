//! Network libraries used only for their parsers: `urllib3.util.parse_url`,
//! `requests.utils.get_auth_from_url`, building a `requests.Request` and preparing it.
//! None of these opens a connection, so code that touches its network library only
//! through them does not connect anywhere, whatever URLs it spells (the work on an HTTP
//! library's URL handling is mostly that). Any other use of the library — a module or a
//! name not listed here, a `Session`, `get`, `getattr` on the module — keeps the code a
//! network user, as does a network API of any other library.

use std::sync::OnceLock;

use regex::Regex;

/// Modules (dotted, a prefix of what the code names) whose every member only parses,
/// builds or describes requests and never sends one.
const PARSING_MODULES: &[&str] = &[
    "urllib3.util",
    "urllib3.exceptions",
    "urllib3.fields",
    "urllib3.filepost",
    "urllib3._collections",
    "requests.utils",
    "requests.structures",
    "requests.exceptions",
    "requests.compat",
    "requests.cookies",
    "requests.status_codes",
    "requests.models",
    "requests._internal_utils",
];

/// Members of a network library's top-level module that only build or describe a
/// request (`requests.Request(...).prepare()` sends nothing).
const PARSING_MEMBERS: &[(&str, &[&str])] = &[
    (
        "requests",
        &[
            "Request",
            "PreparedRequest",
            "Response",
            "codes",
            "utils",
            "structures",
            "exceptions",
            "compat",
            "cookies",
            "status_codes",
            "models",
            "RequestException",
            "HTTPError",
            "ConnectionError",
            "Timeout",
            "URLRequired",
            "TooManyRedirects",
            "__version__",
        ],
    ),
    (
        "urllib3",
        &[
            "util",
            "exceptions",
            "fields",
            "filepost",
            "Timeout",
            "Retry",
            "__version__",
        ],
    ),
];

/// Whether every hit of the network pattern in `code` (start, end) is one of the
/// parsing-only uses above of `requests` or `urllib3`, and nothing reaches a library by
/// a name computed at run time.
pub(crate) fn only_parses(code: &str, network_hits: impl Iterator<Item = (usize, usize)>) -> bool {
    let mut any = false;
    for (start, end) in network_hits {
        any = true;
        let hit = &code[start..end];
        if let Some(module) = hit.strip_prefix("import") {
            // `import requests` is fine when every later mention is a dotted use (checked
            // as its own hit); `import requests as r`, `getattr(requests, …)` or
            // `f = requests` hide what is used.
            if !only_dotted_mentions(code, module.trim()) {
                return false;
            }
            continue;
        }
        if !(hit.eq_ignore_ascii_case("requests.")
            || hit.eq_ignore_ascii_case("urllib3")
            || hit.starts_with("from "))
        {
            return false;
        }
        if !parsing_use(&code[start..]) {
            return false;
        }
    }
    any && !reached_dynamically(code)
}

/// Whether the use of a library starting at the beginning of `rest` (`requests.X…`,
/// `urllib3.X…`, `from M import a, b`) is parsing-only.
fn parsing_use(rest: &str) -> bool {
    if let Some(c) = from_import().captures(rest) {
        let module = c.get(1).map_or("", |m| m.as_str());
        let names = c.get(2).map_or("", |m| m.as_str());
        if parsing_module(module) {
            return true;
        }
        let Some((_, members)) = PARSING_MEMBERS.iter().find(|(m, _)| *m == module) else {
            return false;
        };
        return names
            .split(',')
            .map(|n| {
                n.trim()
                    .trim_matches(['(', ')'])
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
            })
            .filter(|n| !n.is_empty())
            .all(|n| members.contains(&n));
    }
    let dotted: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        .collect();
    if parsing_module(&dotted) {
        return true;
    }
    let mut parts = dotted.split('.');
    let (Some(library), Some(member)) = (parts.next(), parts.next()) else {
        return false;
    };
    PARSING_MEMBERS
        .iter()
        .any(|(m, members)| *m == library && members.contains(&member))
}

/// Whether every mention of `module` in `code` is `module.member` or the name in an
/// `import` or `from` statement.
fn only_dotted_mentions(code: &str, module: &str) -> bool {
    let bytes = code.as_bytes();
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    code.match_indices(module).all(|(at, _)| {
        let end = at + module.len();
        let inside_a_word = (at > 0 && word(&bytes[at - 1])) || bytes.get(end).is_some_and(word);
        if inside_a_word || bytes.get(end) == Some(&b'.') {
            return true;
        }
        let line = code[..at].rsplit('\n').next().unwrap_or("").trim_start();
        let rest = code[end..].split('\n').next().unwrap_or("");
        (line == "import " || line.starts_with("from ")) && !rest.trim_start().starts_with("as")
    })
}

fn parsing_module(dotted: &str) -> bool {
    PARSING_MODULES.iter().any(|m| {
        dotted == *m
            || dotted
                .strip_prefix(m)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// `from requests.utils import a, b` (the module and the imported names).
fn from_import() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    #[expect(
        clippy::expect_used,
        reason = "a constant pattern, compiled by the unit tests"
    )]
    RE.get_or_init(|| {
        Regex::new(r"^from\s+((?:requests|urllib3)(?:\.\w+)*)\s+import\s+(\([^)]*\)|[^\n;]*)")
            .expect("compiles")
    })
}

/// The library or its members reached by name at run time (`getattr(requests, m)`,
/// `importlib`, `__import__`, `sys.modules`): what is called cannot be read.
fn reached_dynamically(code: &str) -> bool {
    [
        "getattr",
        "importlib",
        "__import__",
        "sys.modules",
        "globals()",
        "vars(",
    ]
    .iter()
    .any(|w| code.contains(w))
}

#[cfg(test)]
mod tests {
    use super::super::{Finding, Lang, inspect};

    fn connects(code: &str) -> bool {
        inspect(Lang::Python, code)
            .iter()
            .any(|f| matches!(f, Finding::Network { .. }))
    }

    #[test]
    fn parsing_urls_with_a_network_library_connects_nowhere() {
        for code in [
            "from urllib3.util.url import parse_url\nu = parse_url('http://.example.com')\nprint(u.host)",
            "from urllib3.util import parse_url\nparse_url('http://user%40name:pass@host:8080')",
            "from requests.utils import get_auth_from_url\nprint(get_auth_from_url('http://user:pass@host'))",
            "import requests\nreq = requests.Request('GET', 'http://xn--n3h.net')\nprint(req.prepare().url)",
            "import requests\ntry:\n    requests.Request('GET', 'http://example.com').prepare()\nexcept requests.exceptions.InvalidURL as e:\n    print(e)",
            "from requests import Request, PreparedRequest\nRequest('GET', 'http://a.example').prepare()",
        ] {
            assert!(!connects(code), "{code}");
        }
    }

    #[test]
    fn any_other_use_of_the_library_still_connects() {
        for code in [
            "import requests\nrequests.get('http://evil.example/x')",
            "import requests\nrequests.Request('GET', 'http://a.example')\nrequests.Session().send(p)",
            "from requests import get\nget('http://evil.example/x')",
            "from requests import Request, get as g\ng('http://evil.example')",
            "import requests\nf = getattr(requests, 'ge' + 't')\nf('http://evil.example')",
            "from urllib3 import PoolManager\nPoolManager().request('GET', 'http://evil.example')",
            "import urllib3\nurllib3.PoolManager().request('GET', 'http://evil.example')",
            "from urllib3.util import parse_url\nimport socket\nsocket.create_connection(('evil.example', 80))",
            "from requests.utils import quote\nimport urllib.request\nurllib.request.urlopen('http://evil.example')",
        ] {
            assert!(connects(code), "{code}");
        }
    }
}
