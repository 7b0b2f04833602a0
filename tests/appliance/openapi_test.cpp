// docs/openapi.yaml documents exactly the routes App serves: every route (method, pattern) with the
// same x-roles, and no operation that is not a route. The routes come from App::routes() of an App
// built in-process, so a route added anywhere (REST, CSC, web UI) without its entry fails here, named.
//
// The YAML is read by Debian's python3-yaml (/usr/bin/python3), which prints one line per operation
// for the comparison below, plus any structural problem it finds (unresolved $ref, a path parameter
// not declared, an operation without responses).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "appliance.h"

namespace hocba::test {
namespace {

const std::string kYaml = std::string(HOCBA_DOCS_DIR) + "/openapi.yaml";
constexpr const char* kPython = "/usr/bin/python3";

// Reads the YAML and prints "OP METHOD PATH ROLES AUTH RESPONSES SUMMARY" per operation
// (ROLES comma-separated, "-" when x-roles is missing; AUTH the security schemes of the operation's
// effective security joined by '+', "open" when there are none), and "PROBLEM text" for what is
// structurally wrong.
constexpr const char* kReader = R"PY(
import re, sys, yaml
doc = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
problems = []
if doc.get("openapi") != "3.0.3":
    problems.append("openapi is %r, expected '3.0.3'" % doc.get("openapi"))
def resolve(ref):
    node = doc
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
def walk(node, where):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                if not isinstance(v, str) or not v.startswith("#/") or resolve(v) is None:
                    problems.append("unresolved $ref %r at %s" % (v, where))
            else:
                walk(v, where + "/" + str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, where + "/" + str(i))
walk(doc, "")
err = resolve("#/components/schemas/Error") or {}
inner = (err.get("properties") or {}).get("error") or {}
if sorted(inner.get("required") or []) != ["code", "message"]:
    problems.append("components/schemas/Error is not {error: {code, message}}")
methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
gsec = doc.get("security")
for path, item in (doc.get("paths") or {}).items():
    for method, op in item.items():
        if method not in methods:
            continue
        where = "%s %s" % (method.upper(), path)
        roles = op.get("x-roles")
        if not isinstance(roles, list) or not roles:
            problems.append(where + ": no x-roles list")
            roles = []
        sec = op.get("security", gsec)
        params = [p for p in (item.get("parameters") or []) + (op.get("parameters") or [])]
        params = [resolve(p["$ref"]) if isinstance(p, dict) and "$ref" in p else p for p in params]
        declared = {p.get("name") for p in params if isinstance(p, dict) and p.get("in") == "path"}
        for name in re.findall(r"{([^}]+)}", path):
            if name not in declared:
                problems.append(where + ": path parameter {%s} is not declared" % name)
        schemes = sorted({name for req in (sec or []) for name in (req or {})})
        for name in schemes:
            if name not in ((doc.get("components") or {}).get("securitySchemes") or {}):
                problems.append(where + ": security scheme %r is not in components/securitySchemes" % name)
        summary = " ".join(str(op.get("summary", "")).split())
        print("OP %s %s %s %s %s %s" % (method.upper(), path, ",".join(map(str, roles)) or "-",
              "+".join(schemes) or "open", len(op.get("responses") or {}), summary))
for p in problems:
    print("PROBLEM " + p)
)PY";

struct Op {
  std::string method, path;
  std::vector<std::string> roles;  // sorted
  std::string auth;                // "open", or the security schemes: "bearer+cookie", "basic"
  int responses = 0;
  std::string summary;
  std::string key() const { return method + " " + path; }
};

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : ",") + x;
  return "[" + s + "]";
}


struct Documented {
  std::vector<Op> ops;
  std::vector<std::string> problems;
};

Documented read_yaml() {
  Documented d;
  TempDir tmp;
  write_text(tmp.file("reader.py"), kReader);
  auto r = run(std::string(kPython) + " " + tmp.file("reader.py") + " '" + kYaml + "' 2>&1");
  if (r.status != 0) throw std::runtime_error("reading " + kYaml + " failed:\n" + r.out);
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PROBLEM ", 0) == 0) {
      d.problems.push_back(line.substr(8));
      continue;
    }
    std::istringstream ls(line);
    std::string tag, roles, auth;
    Op op;
    if (!(ls >> tag >> op.method >> op.path >> roles >> auth >> op.responses) || tag != "OP")
      throw std::runtime_error("unexpected reader output: " + line);
    std::getline(ls >> std::ws, op.summary);
    if (roles != "-") {
      std::stringstream rs(roles);
      for (std::string role; std::getline(rs, role, ',');) op.roles.push_back(role);
    }
    op.roles = sorted(op.roles);
    op.auth = auth;
    d.ops.push_back(op);
  }
  return d;
}

// The differences between what App serves and what the file documents, one line each, naming the
// route; empty when they agree.
std::vector<std::string> compare(const std::vector<api::RouteInfo>& routes, const std::vector<Op>& ops) {
  std::vector<std::string> out;
  std::map<std::string, const Op*> doc;
  for (auto& op : ops)
    if (!doc.emplace(op.key(), &op).second) out.push_back("documented twice: " + op.key());
  std::set<std::string> served;
  for (auto& r : routes) {
    std::string key = r.method + " " + r.pattern;
    if (!served.insert(key).second) out.push_back("served twice (App::routes): " + key);
    auto it = doc.find(key);
    if (it == doc.end()) {
      out.push_back("not in docs/openapi.yaml: " + key + " x-roles " + join(sorted(r.roles)) + " (\"" + r.summary + "\")");
      continue;
    }
    if (it->second->roles != sorted(r.roles))
      out.push_back("x-roles differ for " + key + ": served " + join(sorted(r.roles)) + ", documented " + join(it->second->roles));
  }
  for (auto& op : ops)
    if (!served.count(op.key())) out.push_back("documented but not served: " + op.key());
  return out;
}

bool have_yaml() { return run(std::string(kPython) + " -c 'import yaml' >/dev/null 2>&1").status == 0; }

std::string lines(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += "  " + x + "\n";
  return s;
}

TEST(OpenApi, EveryRouteIsDocumentedWithItsRolesAndNothingElse) {
  if (!have_yaml()) GTEST_SKIP() << "python3-yaml is needed (apt-get install python3-yaml)";
  auto routes = served_routes();
  auto doc = read_yaml();
  ASSERT_GE(routes.size(), 30u);  // the REST API alone has more; a broken App would have none
  auto diff = compare(routes, doc.ops);
  EXPECT_TRUE(diff.empty()) << diff.size() << " difference(s) between App::routes() and " << kYaml << ":\n" << lines(diff);
}

TEST(OpenApi, OperationsAreWellFormed) {
  if (!have_yaml()) GTEST_SKIP() << "python3-yaml is needed (apt-get install python3-yaml)";
  auto doc = read_yaml();
  ASSERT_FALSE(doc.ops.empty());
  EXPECT_TRUE(doc.problems.empty()) << lines(doc.problems);
  for (auto& op : doc.ops) {
    bool anonymous = op.roles == std::vector<std::string>{"anonymous"};
    EXPECT_FALSE(!anonymous && std::count(op.roles.begin(), op.roles.end(), "anonymous"))
        << op.key() << ": anonymous mixed with roles " << join(op.roles);
    // Operations that need a session say so (the bearer token or the cookie); anonymous ones take
    // none (security: [], or HTTP Basic for the CSC login).
    bool session = op.auth.find("bearer") != std::string::npos || op.auth.find("cookie") != std::string::npos;
    EXPECT_EQ(session, !anonymous) << op.key() << ": x-roles " << join(op.roles) << " but security " << op.auth;
    if (!anonymous) {
      EXPECT_EQ(op.auth, "bearer+cookie") << op.key();
    }
    EXPECT_GT(op.responses, 0) << op.key() << ": no responses";
    EXPECT_FALSE(op.summary.empty()) << op.key() << ": no summary";
    for (auto& role : op.roles)
      EXPECT_TRUE(role == "anonymous" || store::parse_role(role)) << op.key() << ": unknown role " << role;
  }
}

// The comparison itself names what is missing, extra or different.
TEST(OpenApi, TheComparisonNamesMissingExtraAndChangedRoutes) {
  std::vector<api::RouteInfo> routes = {{"GET", "/a", {"admin", "viewer"}, "a"}, {"POST", "/b/{id}", {"admin"}, "b"},
                                        {"GET", "/c", {"anonymous"}, "c"}};
  std::vector<Op> ops = {{"GET", "/a", {"admin", "viewer"}, "bearer+cookie", 1, "a"},
                         {"POST", "/b/{id}", {"admin", "principal"}, "bearer+cookie", 1, "b"},
                         {"DELETE", "/d", {"admin"}, "bearer+cookie", 1, "d"}};
  auto diff = compare(routes, ops);
  ASSERT_EQ(diff.size(), 3u) << lines(diff);
  EXPECT_NE(diff[0].find("x-roles differ for POST /b/{id}"), std::string::npos) << diff[0];
  EXPECT_NE(diff[1].find("not in docs/openapi.yaml: GET /c"), std::string::npos) << diff[1];
  EXPECT_NE(diff[2].find("documented but not served: DELETE /d"), std::string::npos) << diff[2];
  ops.pop_back();
  ops[1].roles = {"admin"};
  ops.push_back({"GET", "/c", {"anonymous"}, "open", 1, "c"});
  EXPECT_TRUE(compare(routes, ops).empty()) << lines(compare(routes, ops));
}

}  // namespace
}  // namespace hocba::test
