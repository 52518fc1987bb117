package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
	"go.yaml.in/yaml/v3"
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
	entries   []yamlEntry // YAML files only
	envBlocks int         // env-looking section headers seen, to catch an extractor that found nothing
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
			f.entries, err = parseDeployYAML(src)
			if err == nil {
				f.settings, f.envBlocks, err = yamlSettings(rel, f.entries)
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
		for _, n := range f.entries {
			unit := n.unit
			if strings.Contains(strings.ToLower(unit), "eventsim") || strings.Contains(unit, "redis") {
				continue // not the gateway
			}
			switch {
			case n.key == "path" && n.under("readinessProbe", "httpGet"):
				probes++
				if n.value.Value != "/readyz" {
					t.Errorf("%s:%d: readinessProbe on %s; want /readyz (it turns 503 while draining)", f.rel, n.line, n.value.Value)
				}
				serves(f.rel, n.value.Value)
			case n.key == "path" && (n.under("livenessProbe", "httpGet") || n.under("startupProbe", "httpGet")):
				probes++
				if n.value.Value != "/healthz" {
					t.Errorf("%s:%d: liveness/startup probe on %s; want /healthz (a degraded or draining gateway must not be restarted)", f.rel, n.line, n.value.Value)
				}
				serves(f.rel, n.value.Value)
			case n.key == "terminationGracePeriodSeconds" || n.key == "stop_grace_period":
				grace, err := time.ParseDuration(n.value.Value)
				if n.key == "terminationGracePeriodSeconds" {
					var secs int
					secs, err = strconv.Atoi(n.value.Value)
					grace = time.Duration(secs) * time.Second
				}
				cfg := configIn(dir)
				need := cfg.HTTP.ShutdownDrainDelay + cfg.HTTP.ShutdownTimeout
				if err != nil || grace <= need {
					t.Errorf("%s:%d: %s %s; want more than SHUTDOWN_DRAIN_DELAY + SHUTDOWN_TIMEOUT = %s", f.rel, n.line, n.key, n.value.Value, need)
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
  gateway-2:
    <<: *gw
    environment: {LOG_LEVEL: debug, REDIS_URL: }
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
		{"compose", compose, 4, []string{
			`5 x-gateway APP_ENV="production"`, `6 x-gateway EVENT_API_BASE_URL="http://eventsim:4000"`,
			`10 eventsim SIM_PORT="4000"`, `11 eventsim SIM_LOG_FORMAT=(no value)`, `16 gateway-1 PORT="3000"`,
			`19 gateway-2 LOG_LEVEL="debug"`, `19 gateway-2 REDIS_URL=(no value)`,
		}},
		{"k8s", k8s, 4, []string{
			`15 gateway REDIS_URL=(no value)`, `21 gateway REDIS_TIMEOUT="1s"`,
			`28 gateway LOG_FORMAT="json"`, `29 gateway REDIS_KEY_PREFIX="eventgw:"`,
			`35 gateway-redis REDIS_URL=(no value)`, `37 gateway-redis LOG_LEVEL="debug"`,
		}},
	} {
		entries, err := parseDeployYAML([]byte(tt.src))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		ss, blocks, err := yamlSettings("sample", entries)
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
	for _, bad := range []string{
		"services:\n  a:\n    environment: A=b\n",
		"services:\n  a:\n    environment:\n      - A: b\n",
		"spec:\n  env:\n    - A=b\n",
		"kind: ConfigMap\ndata:\n  A: [b]\n",
		"a:\n\tb: c\n",
		"a: 'unterminated\n",
	} {
		entries, err := parseDeployYAML([]byte(bad))
		if err == nil {
			_, _, err = yamlSettings("sample", entries)
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

// yamlEntry is one `key: value` of a YAML document, as go.yaml.in/yaml/v3
// read it, with where it stands: the keys of the mappings it is nested in
// and the unit it belongs to.
type yamlEntry struct {
	kind  string   // the document's Kubernetes kind; "" in a compose file
	unit  string   // compose service or x- key, or the Kubernetes object's metadata.name
	path  []string // enclosing mapping keys, outermost first; sequence items add none
	key   string
	value *yaml.Node
	line  int // the key's
}

// under reports whether keys are the last enclosing keys of e.
func (e yamlEntry) under(keys ...string) bool {
	return len(e.path) >= len(keys) && slices.Equal(e.path[len(e.path)-len(keys):], keys)
}

// parseDeployYAML reads every document of a YAML file and lists its
// entries in the order they are written. Aliases are not followed: what an
// anchor holds is listed once, where it is written (compose's x-gateway,
// not each replica that merges it in).
func parseDeployYAML(src []byte) ([]yamlEntry, error) {
	var entries []yamlEntry
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return entries, nil
		}
		if err != nil {
			return nil, err
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		var kind, name string
		if n := yamlGet(root, "kind"); n != nil {
			kind = n.Value
		}
		if n := yamlGet(yamlGet(root, "metadata"), "name"); n != nil {
			name = n.Value
		}
		var walk func(n *yaml.Node, path []string)
		walk = func(n *yaml.Node, path []string) {
			switch n.Kind {
			case yaml.MappingNode:
				for i := 0; i+1 < len(n.Content); i += 2 {
					k, v := n.Content[i], n.Content[i+1]
					e := yamlEntry{kind: kind, unit: name, path: path, key: k.Value, value: v, line: k.Line}
					full := append(slices.Clip(path), k.Value)
					switch {
					case len(full) >= 2 && full[0] == "services":
						e.unit = full[1]
					case strings.HasPrefix(full[0], "x-"):
						e.unit = full[0]
					}
					entries = append(entries, e)
					walk(v, full)
				}
			case yaml.SequenceNode:
				for _, item := range n.Content {
					walk(item, path)
				}
			}
		}
		walk(root, nil)
	}
}

// yamlGet returns the value of key in the mapping m, or nil when m is not
// a mapping or has no such key.
func yamlGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// yamlNull reports whether n is an empty value (`environment:` with
// nothing after it), which sets nothing.
func yamlNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// yamlSettings finds the variables a compose file or Kubernetes manifests
// set: a compose service's environment (a mapping, or a list of
// NAME[=value]), a container's env (a list of name with value or
// valueFrom), a ConfigMap's or a Secret's data. It counts those sections,
// so that one the extractor found nothing in shows, and refuses a section
// of another shape rather than skip the variables it may set.
func yamlSettings(rel string, entries []yamlEntry) (settings []deploySetting, blocks int, err error) {
	for _, e := range entries {
		add := func(line int, name, value string, hasValue bool) {
			settings = append(settings, deploySetting{file: rel, line: line, unit: e.unit, name: name, value: value, hasValue: hasValue})
		}
		v := e.value
		switch {
		case e.key == "environment": // compose
			blocks++
			switch {
			case v.Kind == yaml.MappingNode:
				for i := 0; i+1 < len(v.Content); i += 2 {
					k, val := v.Content[i], v.Content[i+1]
					if val.Kind != yaml.ScalarNode {
						return nil, 0, fmt.Errorf("line %d: environment: %s is not a scalar", k.Line, k.Value)
					}
					// A null value passes the variable on from the host, as `- NAME` does.
					add(k.Line, k.Value, val.Value, !yamlNull(val))
				}
			case v.Kind == yaml.SequenceNode:
				for _, item := range v.Content {
					if item.Kind != yaml.ScalarNode {
						return nil, 0, fmt.Errorf("line %d: environment: want NAME=value items", item.Line)
					}
					name, value, hasValue := strings.Cut(item.Value, "=")
					add(item.Line, name, value, hasValue)
				}
			case !yamlNull(v):
				return nil, 0, fmt.Errorf("line %d: environment: %q: want a mapping or a list of NAME=value", e.line, v.Value)
			}
		case e.key == "env": // Kubernetes container
			blocks++
			if v.Kind != yaml.SequenceNode && !yamlNull(v) {
				return nil, 0, fmt.Errorf("line %d: env: want a list of name/value items", e.line)
			}
			for _, item := range v.Content {
				name := yamlGet(item, "name")
				if name == nil || name.Kind != yaml.ScalarNode {
					return nil, 0, fmt.Errorf("line %d: env: an item without a name", item.Line)
				}
				value, literal := "", yamlGet(item, "value") // absent with valueFrom
				if literal != nil {
					value = literal.Value
				}
				add(name.Line, name.Value, value, literal != nil)
			}
		case len(e.path) == 0 && (e.kind == "ConfigMap" || e.kind == "Secret") && (e.key == "data" || e.key == "stringData"):
			blocks++
			if v.Kind != yaml.MappingNode && !yamlNull(v) {
				return nil, 0, fmt.Errorf("line %d: %s: want a mapping", e.line, e.key)
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				k, val := v.Content[i], v.Content[i+1]
				if val.Kind != yaml.ScalarNode {
					return nil, 0, fmt.Errorf("line %d: %s: %s is not a scalar", k.Line, e.key, k.Value)
				}
				// A Secret's data is base64: its value is not checked.
				add(k.Line, k.Value, val.Value, e.key == "stringData" || e.kind == "ConfigMap")
			}
		}
	}
	return settings, blocks, nil
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
			value = dockerUnquote(value)
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

// dockerUnquote removes the quotes around an ENV value.
func dockerUnquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if v, err := strconv.Unquote(s); err == nil {
			return v
		}
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
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
