package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The variables documented above applyEnv are exactly those it reads,
// named after the file keys, in field order: the comment is documentation
// of the struct tags and must not drift from them.
func TestEnvDocListsEveryVariable(t *testing.T) {
	src, err := os.ReadFile("env.go")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^//\t(SESAME_[A-Z_]+) +([a-z_]+)`).FindAllStringSubmatch(string(src), -1) {
		got = append(got, m[1]+" "+m[2])
	}
	var want []string
	for _, key := range profileKeys() {
		want = append(want, envVar(key)+" "+key)
	}
	if !slices.Equal(got, want) {
		t.Errorf("env.go documents\n  %s\nbut the Profile fields give\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// Settings names every key, in field order, with the field's own value:
// `sesame profile show` prints nothing else.
func TestSettingsCoverEveryKey(t *testing.T) {
	var p Profile
	v := reflect.ValueOf(&p).Elem()
	for f := range v.Type().Fields() {
		fv := v.FieldByIndex(f.Index)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString("v-" + f.Name)
		case reflect.Int:
			fv.SetInt(int64(len(f.Name)))
		case reflect.Bool:
			fv.SetBool(true)
		case reflect.Slice:
			fv.Set(reflect.ValueOf([]string{"a-" + f.Name, "b"}))
		case reflect.Map:
			fv.Set(reflect.ValueOf(map[string]string{"k": f.Name}))
		default:
			t.Fatalf("field %s: kind %s has no case here", f.Name, fv.Kind())
		}
	}
	settings := p.Settings()
	var keys []string
	for _, s := range settings {
		keys = append(keys, s.Key)
		f, ok := fieldFor(s.Key)
		if !ok {
			t.Fatalf("Settings has %q, which is no key", s.Key)
		}
		if want := v.FieldByIndex(f.Index).Interface(); !reflect.DeepEqual(s.Value, want) {
			t.Errorf("%s = %#v, want %#v", s.Key, s.Value, want)
		}
	}
	if !slices.Equal(keys, profileKeys()) {
		t.Errorf("keys %v, want %v", keys, profileKeys())
	}
	if slices.Contains(keys, "") || reflect.TypeFor[Profile]().NumField() != len(keys)+1 { // + Name
		t.Errorf("keys %v do not account for every field but Name", keys)
	}
}

// Every setting tagged as a URL is held to the URL policy under its own
// key, and no other setting is: the tags are what Validate goes by.
func TestValidateChecksEveryURLSetting(t *testing.T) {
	var urlKeys []string
	for f := range reflect.TypeFor[Profile]().Fields() {
		kind := f.Tag.Get("kind")
		switch {
		case kind == "":
			continue
		case kind != "url" && kind != "issuer":
			t.Fatalf("field %s: unknown kind %q", f.Name, kind)
		case f.Type.Kind() != reflect.String:
			t.Fatalf("field %s: kind %q on a %s", f.Name, kind, f.Type)
		}
		key := yamlKey(f)
		urlKeys = append(urlKeys, key)
		var p Profile
		reflect.ValueOf(&p).Elem().FieldByIndex(f.Index).SetString("http://idp.example/x")
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), key+`: "http://idp.example/x" must use https`) {
			t.Errorf("%s over plain http: %v", key, err)
		}
	}
	want := []string{"issuer", "broker", "api_url", "auth_url", "token_url", "userinfo_url", "revocation_url",
		"introspection_url", "end_session_url", "jwks_url", "device_url"}
	if !slices.Equal(urlKeys, want) {
		t.Errorf("URL settings %v, want %v", urlKeys, want)
	}
}

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{
		"openid profile":             {"openid", "profile"},
		"openid,profile":             {"openid", "profile"},
		" openid, profile ,\temail ": {"openid", "profile", "email"},
		"openid\nprofile\u00a0email": {"openid", "profile", "email"},
		",, ":                        nil,
		"":                           nil,
	} {
		if got := SplitList(in); !slices.Equal(got, want) {
			t.Errorf("SplitList(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsReservedParam(t *testing.T) {
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "state", "nonce",
		"code_challenge", "code_challenge_method", "scope", "resource", "dpop_jkt"} {
		if !IsReservedParam(k) {
			t.Errorf("%s is not reserved", k)
		}
	}
	for _, k := range []string{"prompt", "login_hint", "acr_values", "Scope", ""} {
		if IsReservedParam(k) {
			t.Errorf("%q is reserved", k)
		}
	}
}
