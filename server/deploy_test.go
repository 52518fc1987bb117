package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventms/gateway/internal/eventsim"
	"github.com/eventms/gateway/internal/platform/config"
)

// deployDir is the repository's deploy/ folder, from this package.
const deployDir = "../deploy"

// deployRuntimeVars are read by the Go runtime of either program, not by its
// configuration loader (the Deployment sets GOMEMLIMIT to about 90 % of its
// memory limit).
var deployRuntimeVars = map[string]bool{"GOMEMLIMIT": true, "GOMAXPROCS": true, "GOGC": true, "GODEBUG": true}

// deployProgram is what reads a unit's variables.
type deployProgram string

const (
	deployGateway   deployProgram = "gateway (internal/config.Load)"
	deploySimulator deployProgram = "simulator (internal/eventsim.SettingsFromEnv)"
)

// deployProgramOf tells whose settings a unit holds: the simulator's when its
// name (compose service or extension key, Kubernetes object, file) says
// eventsim, the gateway's otherwise.
func deployProgramOf(s deploySetting) deployProgram {
	if strings.Contains(strings.ToLower(s.unit), "eventsim") {
		return deploySimulator
	}
	return deployGateway
}

// deployReadBy returns the variables p reads, as p's loader asks for them.
func deployReadBy(p deployProgram) map[string]bool {
	names := map[string]bool{}
	record := func(k string) (string, bool) { names[k] = true; return "", false }
	if p == deploySimulator {
		_, _ = eventsim.SettingsFromEnv(record)
	} else {
		_, _ = config.Load(record) // production without a URL fails; the names are recorded
	}
	return names
}

// deployProblems loads env alone with p's loader and returns what it says
// about env's own variables: invalid values, deprecated names, conflicts.
// Problems that name only variables env does not set (e.g. production
// without EVENT_API_BASE_URL, which may come from another file) are left out.
func deployProblems(p deployProgram, env map[string]string) []string {
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var err error
	var out, warnings []string
	if p == deploySimulator {
		_, err = eventsim.SettingsFromEnv(lookup)
	} else {
		var c config.Config
		c, err = config.Load(lookup)
		warnings = c.Warnings
	}
	if err != nil {
		// One line per bad variable, which it starts with: NAME="value": want …
		for _, l := range strings.Split(err.Error(), "\n") {
			if name, _, ok := strings.Cut(l, "="); ok && env[name] != "" {
				out = append(out, l)
			}
		}
	}
	for _, w := range warnings {
		for name := range env {
			if regexp.MustCompile(`\b` + name + `\b`).MatchString(w) {
				out = append(out, w)
				break
			}
		}
	}
	return out
}

// deploySetting is one environment variable a deployment file sets.
type deploySetting struct {
	file string // relative to the repository root
	line int
	unit string // compose service or x- key, Kubernetes object name, Dockerfile
	name string
	// value is the literal value, when the file gives one (not for
	// valueFrom or a Secret's base64 data).
	value    string
	hasValue bool
}

func (s deploySetting) where() string { return fmt.Sprintf("%s:%d (%s)", s.file, s.line, s.unit) }

// deployFile is a file to check and what the extractor found in it.
type deployFile struct {
	path, rel string
	settings  []deploySetting
	nodes     []yamlNode // YAML files only
	envBlocks int        // env-looking section headers seen, to catch an extractor that found nothing
}

// readDeployFiles reads every file under deploy/, and the gateway's own
// Dockerfile. A file of a kind the extractor does not know fails t.
func readDeployFiles(t *testing.T) []deployFile {
	t.Helper()
	paths := []string{"../Dockerfile"}
	err := filepath.WalkDir(deployDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var files []deployFile
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(filepath.ToSlash(path), "../")
		f := deployFile{path: path, rel: rel}
		base := strings.ToLower(filepath.Base(path))
		switch {
		case strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml"):
			f.nodes, err = parseDeployYAML(string(src))
			if err == nil {
				f.settings, f.envBlocks, err = yamlSettings(rel, f.nodes)
			}
		case base == "dockerfile" || strings.HasSuffix(base, ".dockerfile"):
			f.settings = dockerfileSettings(rel, string(src))
			f.envBlocks = len(regexp.MustCompile(`(?mi)^\s*ENV\s`).FindAllString(string(src), -1))
		case strings.HasSuffix(base, ".cfg") || strings.HasSuffix(base, ".conf"):
			// A load balancer's configuration sets no variable of ours;
			// TestDeployProbesAndLoadBalancer reads it.
		default:
			err = fmt.Errorf("no reader for this kind of file: teach deploy_test.go what it sets")
		}
		if err != nil {
			t.Errorf("%s: %v", rel, err)
		}
		if f.envBlocks > 0 && len(f.settings) == 0 {
			t.Errorf("%s: %d environment sections but no variable found: the extractor does not understand this file", rel, f.envBlocks)
		}
		files = append(files, f)
	}
	return files
}

// Every variable deploy/ sets is one its program reads, with a value that
// program accepts.
func TestDeploySetsOnlyVariablesItsProgramsRead(t *testing.T) {
	reads := map[deployProgram]map[string]bool{deployGateway: deployReadBy(deployGateway), deploySimulator: deployReadBy(deploySimulator)}
	type group struct {
		file, unit string
		p          deployProgram
	}
	values := map[group]map[string]string{}
	found := 0
	for _, f := range readDeployFiles(t) {
		for _, s := range f.settings {
			found++
			p := deployProgramOf(s)
			if !reads[p][s.name] && !deployRuntimeVars[s.name] {
				t.Errorf("%s: sets %s, which the %s does not read (docs/configuration.md lists every variable)", s.where(), s.name, p)
				continue
			}
			if s.hasValue && !deployRuntimeVars[s.name] {
				g := group{s.file, s.unit, p}
				if values[g] == nil {
					values[g] = map[string]string{}
				}
				values[g][s.name] = s.value
			}
		}
	}
	for g, env := range values {
		for _, problem := range deployProblems(g.p, env) {
			t.Errorf("%s (%s): the %s refuses it: %s", g.file, g.unit, g.p, problem)
		}
	}
	if found == 0 {
		t.Fatal("no variable found under deploy/")
	}
}

// The probes and the load balancer use the gateway's real routes for what
// they are for (readiness is /readyz, which turns 503 while draining;
// liveness is /healthz), the load balancer sends to every compose replica on
// its port, and a stopped replica is given the time to drain and finish.
func TestDeployProbesAndLoadBalancer(t *testing.T) {
	files := readDeployFiles(t)
	g := newGateway(t, eventsim.Config{}, nil)
	serves := func(where, path string) {
		t.Helper()
		resp, err := http.Get(g.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: probes %s, which answers %d", where, path, resp.StatusCode)
		}
	}

	// The gateway's configuration per folder: a Deployment's ConfigMap is
	// another file of the same folder.
	gatewayEnv := map[string]map[string]string{}
	for _, f := range files {
		for _, s := range f.settings {
			if deployProgramOf(s) == deployGateway && s.hasValue && !deployRuntimeVars[s.name] {
				dir := filepath.Dir(f.rel)
				if gatewayEnv[dir] == nil {
					gatewayEnv[dir] = map[string]string{}
				}
				gatewayEnv[dir][s.name] = s.value
			}
		}
	}
	configIn := func(dir string) config.Config {
		env := gatewayEnv[dir]
		cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatalf("%s: the gateway's settings do not load: %v", dir, err)
		}
		if lease, longest := cfg.Idempotency.Lease, cfg.HTTP.RequestTimeout; lease <= longest {
			t.Errorf("%s: IDEMPOTENCY_LEASE %s is not above REQUEST_TIMEOUT %s: a live writer's claim could expire and a duplicate write again", dir, lease, longest)
		}
		return cfg
	}

	probes := 0
	var composeServices []string
	for _, f := range files {
		dir := filepath.Dir(f.rel)
		for _, n := range f.nodes {
			unit := n.unit
			if strings.Contains(strings.ToLower(unit), "eventsim") || strings.Contains(unit, "redis") {
				continue // not the gateway
			}
			switch {
			case n.key == "path" && n.under("readinessProbe", "httpGet"):
				probes++
				if n.value != "/readyz" {
					t.Errorf("%s:%d: readinessProbe on %s; want /readyz (it turns 503 while draining)", f.rel, n.line, n.value)
				}
				serves(f.rel, n.value)
			case n.key == "path" && (n.under("livenessProbe", "httpGet") || n.under("startupProbe", "httpGet")):
				probes++
				if n.value != "/healthz" {
					t.Errorf("%s:%d: liveness/startup probe on %s; want /healthz (a degraded or draining gateway must not be restarted)", f.rel, n.line, n.value)
				}
				serves(f.rel, n.value)
			case n.key == "terminationGracePeriodSeconds" || n.key == "stop_grace_period":
				grace, err := time.ParseDuration(n.value)
				if n.key == "terminationGracePeriodSeconds" {
					var secs int
					secs, err = strconv.Atoi(n.value)
					grace = time.Duration(secs) * time.Second
				}
				cfg := configIn(dir)
				need := cfg.HTTP.ShutdownDrainDelay + cfg.HTTP.ShutdownTimeout
				if err != nil || grace <= need {
					t.Errorf("%s:%d: %s %s; want more than SHUTDOWN_DRAIN_DELAY + SHUTDOWN_TIMEOUT = %s", f.rel, n.line, n.key, n.value, need)
				}
			case len(n.path) == 1 && n.path[0] == "services" && strings.HasPrefix(n.key, "gateway"):
				composeServices = append(composeServices, n.key)
			}
		}
	}
	if probes == 0 {
		t.Error("no probe found under deploy/k8s")
	}

	// HAProxy: checks /readyz, and its servers are the compose replicas.
	lb, err := os.ReadFile(filepath.Join(deployDir, "haproxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	port := configIn("deploy").Port
	var servers []string
	checked := false
	for i, line := range strings.Split(string(lb), "\n") {
		fields := strings.Fields(strings.SplitN(line, "#", 2)[0])
		switch {
		case len(fields) >= 3 && fields[0] == "server":
			host, p, _ := strings.Cut(fields[2], ":")
			servers = append(servers, host)
			if p != strconv.Itoa(port) {
				t.Errorf("deploy/haproxy.cfg:%d: server %s on port %q; the gateway listens on %d", i+1, host, p, port)
			}
		case len(fields) >= 2 && fields[0] == "http-check" && fields[1] == "send":
			if uri := slices.Index(fields, "uri"); uri > 0 && uri+1 < len(fields) {
				checked = true
				if fields[uri+1] != "/readyz" {
					t.Errorf("deploy/haproxy.cfg:%d: health check on %s; want /readyz", i+1, fields[uri+1])
				}
				serves("deploy/haproxy.cfg", fields[uri+1])
			}
		}
	}
	if !checked {
		t.Error("deploy/haproxy.cfg: no `http-check send ... uri` line: replicas are not health-checked on /readyz")
	}
	slices.Sort(servers)
	slices.Sort(composeServices)
	if len(composeServices) == 0 || !slices.Equal(servers, composeServices) {
		t.Errorf("deploy/haproxy.cfg sends to %v; compose.yaml runs the gateway replicas %v", servers, composeServices)
	}
}

// The extractor on every form it claims to read.
func TestDeployExtractorReadsEveryForm(t *testing.T) {
	const compose = `
name: x
x-gateway: &gw
  environment:
    APP_ENV: production # a comment
    EVENT_API_BASE_URL: "http://eventsim:4000"
services:
  eventsim:
    environment:
      - SIM_PORT=4000
      - SIM_LOG_FORMAT
    command: ["a", "--b", ""]
  gateway-1:
    <<: *gw
    environment:
    - 'PORT=3000'
`
	const k8s = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gateway
spec:
  template:
    spec:
      containers:
        - name: gateway
          envFrom:
            - configMapRef:
                name: gateway
          env:
            - name: REDIS_URL
              valueFrom:
                secretKeyRef:
                  name: gateway-redis
                  key: REDIS_URL
            - value: "1s"
              name: REDIS_TIMEOUT
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: gateway
data:
  LOG_FORMAT: json
  REDIS_KEY_PREFIX: 'eventgw:'
---
kind: Secret
metadata:
  name: gateway-redis
data:
  REDIS_URL: cmVkaXM6Ly9yZWRpczo2Mzc5LzA=
stringData:
  LOG_LEVEL: debug
---
apiVersion: v1
kind: Service
metadata:
  name: gateway
spec:
  selector:
    data: not-a-variable
`
	const dockerfile = "FROM scratch\nENV SIM_PORT=4000 SIM_LOG_LEVEL=\"info\" \\\n    SIM_USERS=3\nenv SIM_EVENT_DELAY 1s\n"
	got := func(ss []deploySetting) []string {
		var out []string
		for _, s := range ss {
			v := "(no value)"
			if s.hasValue {
				v = strconv.Quote(s.value)
			}
			out = append(out, fmt.Sprintf("%d %s %s=%s", s.line, s.unit, s.name, v))
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		src    string
		blocks int
		want   []string
	}{
		{"compose", compose, 3, []string{
			`5 x-gateway APP_ENV="production"`, `6 x-gateway EVENT_API_BASE_URL="http://eventsim:4000"`,
			`10 eventsim SIM_PORT="4000"`, `11 eventsim SIM_LOG_FORMAT=(no value)`, `16 gateway-1 PORT="3000"`,
		}},
		{"k8s", k8s, 4, []string{
			`15 gateway REDIS_URL=(no value)`, `21 gateway REDIS_TIMEOUT="1s"`,
			`28 gateway LOG_FORMAT="json"`, `29 gateway REDIS_KEY_PREFIX="eventgw:"`,
			`35 gateway-redis REDIS_URL=(no value)`, `37 gateway-redis LOG_LEVEL="debug"`,
		}},
	} {
		nodes, err := parseDeployYAML(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		ss, blocks, err := yamlSettings("sample", nodes)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if g := got(ss); !slices.Equal(g, tt.want) || blocks != tt.blocks {
			t.Errorf("%s: %d blocks, found\n%s\nwant %d blocks,\n%s", tt.name, blocks, strings.Join(g, "\n"), tt.blocks, strings.Join(tt.want, "\n"))
		}
	}
	want := []string{`2 eventsim.Dockerfile SIM_PORT="4000"`, `2 eventsim.Dockerfile SIM_LOG_LEVEL="info"`,
		`2 eventsim.Dockerfile SIM_USERS="3"`, `4 eventsim.Dockerfile SIM_EVENT_DELAY="1s"`}
	if g := got(dockerfileSettings("deploy/eventsim.Dockerfile", dockerfile)); !slices.Equal(g, want) {
		t.Errorf("Dockerfile: found\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []string{"services:\n  a:\n    environment: {A: b}\n", "a:\n\tb: c\n", "a: 'unterminated\n"} {
		nodes, err := parseDeployYAML(bad)
		if err == nil {
			_, _, err = yamlSettings("sample", nodes)
		}
		if err == nil {
			t.Errorf("%q: read without complaint; want an error", bad)
		}
	}
	// And the check: a name the gateway does not read is caught.
	if deployReadBy(deployGateway)["NOT_A_SETTING"] || !deployReadBy(deployGateway)["REDIS_URL"] || !deployReadBy(deploySimulator)["SIM_PORT"] || deployReadBy(deploySimulator)["PORT"] {
		t.Error("the names read by each deployProgram are not recorded as expected")
	}
	for _, env := range []map[string]string{{"PORT": "eighty"}, {"CIRCUIT_BREAKER_RESET_TIMEOUT_MS": "100"}, {"SIM_PORT": "x"}} {
		p := deployGateway
		if _, ok := env["SIM_PORT"]; ok {
			p = deploySimulator
		}
		if problems := deployProblems(p, env); len(problems) != 1 {
			t.Errorf("%v: problems %q; want one (a bad value, a deprecated name)", env, problems)
		}
	}
	if problems := deployProblems(deployGateway, map[string]string{"APP_ENV": "production"}); len(problems) != 0 {
		t.Errorf("production alone: %q; want no problem (EVENT_API_BASE_URL may be set elsewhere)", problems)
	}
}

// yamlNode is one `key: value` line (or `- scalar` item) of a YAML file,
// with the keys of the mappings it is nested in ("-" for a sequence item).
type yamlNode struct {
	doc, line int
	path      []string // enclosing keys, outermost first
	key       string   // "" for a bare sequence item
	value     string   // the scalar, unquoted; "" when the node has children
	item      int      // id of the innermost sequence item enclosing the node (0: none)
	unit      string   // filled in by yamlSettings
}

// under reports whether keys are the last enclosing keys of n, ignoring
// sequence items.
func (n yamlNode) under(keys ...string) bool {
	var p []string
	for _, k := range n.path {
		if k != "-" {
			p = append(p, k)
		}
	}
	return len(p) >= len(keys) && slices.Equal(p[len(p)-len(keys):], keys)
}

// parseDeployYAML turns block-style YAML into nodes. It refuses tabs in
// indentation, flow mappings and unterminated quotes.
func parseDeployYAML(src string) ([]yamlNode, error) {
	type frame struct {
		indent int
		key    string // "-" for a sequence item
		item   int
	}
	var (
		nodes []yamlNode
		stack []frame
		doc   int
		items int
	)
	sc := bufio.NewScanner(strings.NewReader(src))
	for lineNo := 1; sc.Scan(); lineNo++ {
		raw := sc.Text()
		if strings.TrimSpace(raw) == "---" {
			doc, stack = doc+1, nil
			continue
		}
		text, err := stripYAMLComment(raw)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", lineNo, err)
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		trimmed := strings.TrimLeft(text, " ")
		if strings.HasPrefix(trimmed, "\t") {
			return nil, fmt.Errorf("line %d: tab in indentation", lineNo)
		}
		indent := len(text) - len(trimmed)
		for trimmed != "" {
			isItem := trimmed == "-" || strings.HasPrefix(trimmed, "- ")
			for len(stack) > 0 {
				top := stack[len(stack)-1]
				if top.indent > indent || (top.indent == indent && (!isItem || top.key == "-")) {
					stack = stack[:len(stack)-1]
					continue
				}
				break
			}
			path := make([]string, len(stack))
			item := 0
			for i, f := range stack {
				path[i] = f.key
				if f.key == "-" {
					item = f.item
				}
			}
			if isItem {
				items++
				stack = append(stack, frame{indent: indent, key: "-", item: items})
				rest := strings.TrimPrefix(trimmed, "-")
				after := strings.TrimLeft(rest, " ")
				indent += 1 + len(rest) - len(after)
				trimmed = after
				if trimmed != "" && !yamlLooksLikeKey(trimmed) {
					v, err := yamlScalar(trimmed)
					if err != nil {
						return nil, fmt.Errorf("line %d: %v", lineNo, err)
					}
					nodes = append(nodes, yamlNode{doc: doc, line: lineNo, path: append(path, "-"), value: v, item: items})
					trimmed = ""
				}
				continue
			}
			key, rest, _ := strings.Cut(trimmed, ":")
			key = strings.Trim(key, `"'`)
			v, err := yamlScalar(strings.TrimSpace(rest))
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", lineNo, err)
			}
			nodes = append(nodes, yamlNode{doc: doc, line: lineNo, path: path, key: key, value: v, item: item})
			stack = append(stack, frame{indent: indent, key: key})
			trimmed = ""
		}
	}
	return nodes, sc.Err()
}

// yamlLooksLikeKey reports whether s starts a `key: value` or `key:` mapping entry.
func yamlLooksLikeKey(s string) bool { return yamlKeyRE.MatchString(s) }

var yamlKeyRE = regexp.MustCompile(`^("[^"]*"|'[^']*'|[^\s"'\[{][^:]*?):(\s|$)`)

// stripYAMLComment removes a trailing # comment outside quotes.
func stripYAMLComment(s string) (string, error) {
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return strings.TrimRight(s[:i], " \t"), nil
		}
	}
	if quote != 0 {
		return "", fmt.Errorf("unterminated quote in %q", s)
	}
	return s, nil
}

// yamlScalar unquotes a plain or quoted scalar. Anchors and aliases read as
// "" and as the alias; flow collections other than empty ones are refused.
func yamlScalar(s string) (string, error) {
	switch {
	case s == "" || s == "[]" || s == "{}":
		return "", nil
	case strings.HasPrefix(s, "&"):
		return "", nil // an anchor on a node whose children follow
	case strings.HasPrefix(s, "{"):
		return "", fmt.Errorf("flow mapping %s: write it as a block mapping", s)
	case strings.HasPrefix(s, "|") || strings.HasPrefix(s, ">"):
		return "", fmt.Errorf("block scalar %s: its lines would be read as keys", s)
	case len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"':
		return strconv.Unquote(s)
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'"), nil
	}
	return s, nil
}

// yamlSettings finds the variables a compose file or Kubernetes manifests
// set, and counts the env-looking sections, so that a section the
// extractor skipped shows. Each node gets its unit: the compose service (or
// top-level x- key), or the Kubernetes object's metadata.name.
func yamlSettings(rel string, nodes []yamlNode) (settings []deploySetting, blocks int, err error) {
	kinds, names := map[int]string{}, map[int]string{}
	for _, n := range nodes {
		switch {
		case len(n.path) == 0 && n.key == "kind":
			kinds[n.doc] = n.value
		case len(n.path) == 1 && n.path[0] == "metadata" && n.key == "name":
			names[n.doc] = n.value
		}
	}
	for i := range nodes {
		n := &nodes[i]
		switch {
		case len(n.path) >= 2 && n.path[0] == "services":
			n.unit = n.path[1]
		case len(n.path) >= 1 && strings.HasPrefix(n.path[0], "x-"):
			n.unit = n.path[0]
		default:
			n.unit = names[n.doc]
		}
		last := ""
		if len(n.path) > 0 {
			last = n.path[len(n.path)-1]
		}
		parent := ""
		if len(n.path) > 1 {
			parent = n.path[len(n.path)-2]
		}
		add := func(name, value string, hasValue bool) {
			settings = append(settings, deploySetting{file: rel, line: n.line, unit: n.unit, name: name, value: value, hasValue: hasValue})
		}
		topSecretOrConfig := len(n.path) == 0 && (kinds[n.doc] == "ConfigMap" || kinds[n.doc] == "Secret")
		switch {
		case (n.key == "environment" || n.key == "env") && n.value != "":
			return nil, 0, fmt.Errorf("line %d: %s: %q inline: write one variable a line", n.line, n.key, n.value)
		case n.key == "environment" || n.key == "env" || (topSecretOrConfig && (n.key == "data" || n.key == "stringData")):
			blocks++
		case last == "environment" && n.key != "": // compose map
			add(n.key, n.value, true)
		case last == "-" && parent == "environment" && n.key == "": // compose list
			name, value, hasValue := strings.Cut(n.value, "=")
			add(name, value, hasValue)
		case last == "-" && parent == "env" && n.key == "name": // k8s env
			add(n.value, "", false)
			if v, ok := yamlItemValue(nodes, n.item); ok {
				settings[len(settings)-1].value, settings[len(settings)-1].hasValue = v, true
			}
		case len(n.path) == 1 && (kinds[n.doc] == "ConfigMap" || kinds[n.doc] == "Secret") && (n.path[0] == "data" || n.path[0] == "stringData"):
			// A Secret's data is base64: its value is not checked.
			add(n.key, n.value, n.path[0] == "stringData" || kinds[n.doc] == "ConfigMap")
		}
	}
	return settings, blocks, nil
}

// yamlItemValue returns the `value:` of a k8s env item, wherever it stands in it.
func yamlItemValue(nodes []yamlNode, item int) (string, bool) {
	for _, n := range nodes {
		if n.item == item && n.key == "value" && len(n.path) > 0 && n.path[len(n.path)-1] == "-" {
			return n.value, true
		}
	}
	return "", false
}

// dockerfileSettings finds the variables a Dockerfile's ENV instructions
// set (NAME=value pairs, or the legacy `ENV NAME value`), continuation
// lines joined. The unit is the file's name.
func dockerfileSettings(rel, src string) []deploySetting {
	var out []deploySetting
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		start, text := i+1, strings.TrimSpace(lines[i])
		for strings.HasSuffix(text, `\`) && i+1 < len(lines) {
			i++
			text = strings.TrimSuffix(text, `\`) + " " + strings.TrimSpace(lines[i])
		}
		fields := splitDockerWords(text)
		if len(fields) < 2 || !strings.EqualFold(fields[0], "ENV") {
			continue
		}
		add := func(name, value string) {
			if v, err := yamlScalar(value); err == nil {
				value = v
			}
			out = append(out, deploySetting{file: rel, line: start, unit: filepath.Base(rel), name: name, value: value, hasValue: true})
		}
		if !strings.Contains(fields[1], "=") {
			add(fields[1], strings.Join(fields[2:], " "))
			continue
		}
		for _, f := range fields[1:] {
			name, value, _ := strings.Cut(f, "=")
			add(name, value)
		}
	}
	return out
}

// splitDockerWords splits s at spaces outside double quotes.
func splitDockerWords(s string) []string {
	var out []string
	var b strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			b.WriteRune(r)
		case r == ' ' && !quoted:
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}
