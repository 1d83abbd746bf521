package config

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Profile
		want []string // substrings of the error; none means valid
	}{
		{"empty", Profile{}, nil},
		{"full", Profile{
			Name: "work", Issuer: "https://tenant.logto.app/oidc", ClientID: "abc",
			Scopes: []string{"openid", "urn:logto:scope:organizations"}, Resources: []string{"https://api.example.com", "urn:x:y"},
			Params: map[string]string{"login_hint": "a"}, Storage: "keychain", Port: 65535,
			Broker: "https://broker.example.com", TokenURL: "https://idp/token", JWKSURL: "https://idp/jwks",
		}, nil},
		{"storage file", Profile{Storage: "file"}, nil},
		{"storage unknown", Profile{Name: "work", Storage: "disk"}, []string{`profile "work": storage "disk"`, "keychain", "file"}},
		{"port negative", Profile{Port: -1}, []string{"profile: port -1"}},
		{"port too big", Profile{Name: "w", Port: 65536}, []string{`profile "w": port 65536 is out of range`}},
		{"issuer http", Profile{Name: "w", Issuer: "http://idp.example.com"}, []string{`profile "w": issuer:`, "https"}},
		{"issuer localhost", Profile{Issuer: "http://localhost:5556/dex"}, nil},
		{"issuer 127/8", Profile{Issuer: "http://127.1.2.3:8080"}, nil},
		{"issuer ::1", Profile{Issuer: "http://[::1]:8080/"}, nil},
		{"issuer relative", Profile{Issuer: "idp.example.com"}, []string{"issuer:", "absolute"}},
		{"issuer other scheme", Profile{Issuer: "ftp://idp.example.com"}, []string{"issuer:", "absolute http(s)"}},
		{"issuer query", Profile{Issuer: "https://idp/?tenant=a"}, []string{"issuer:", "query"}},
		{"issuer fragment", Profile{Issuer: "https://idp/#x"}, []string{"issuer:", "fragment"}},
		{"issuer unparsable", Profile{Issuer: "https://idp/%zz"}, []string{"issuer:", "not a URL"}},
		{"token_url http", Profile{TokenURL: "http://idp/token"}, []string{"token_url:", "https"}},
		{"endpoint query ok", Profile{AuthURL: "https://idp/auth?p=B2C_1"}, nil},
		{"broker relative", Profile{Broker: "/broker"}, []string{"broker:"}},
		{"end_session fragment", Profile{EndSessionURL: "https://idp/logout#"}, []string{"end_session_url:", "fragment"}},
		{"scope with space", Profile{Scopes: []string{"openid profile"}}, []string{`scopes: "openid profile"`}},
		{"scope with quote", Profile{Scopes: []string{`a"b`}}, []string{"scopes:"}},
		{"resource relative", Profile{Resources: []string{"api"}}, []string{`resources: "api"`}},
		{"resource fragment", Profile{Resources: []string{"https://api#x"}}, []string{"resources:"}},
		{"reserved param", Profile{Params: map[string]string{"state": "x"}}, []string{`params: "state"`}},
		{"bad name", Profile{Name: "my profile"}, []string{`profile name "my profile"`}},
		{"several at once", Profile{Port: -1, Storage: "x"}, []string{"port", "storage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate passed, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"default": true, "Work": true, "acme.prod": true, "alice@corp": true, "a_b-c": true, "日本": true,
		"": false, "a b": false, "a/b": false, "a:b": false, strings.Repeat("x", 65): false,
	} {
		if err := ValidateName(name); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}
