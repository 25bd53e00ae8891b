package xds

import "testing"

func TestNames(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"an edge listener is named edge_ and the policy's name", ListenerName("https"), "edge_https"},
		{"an edge listener's route configuration has the listener's name", RouteConfigName("https"), "edge_https"},
		{"a virtual host's dots become underscores", VirtualHostName("shop.example.com"), "shop_example_com"},
		{"a virtual host's port colon becomes two underscores", VirtualHostName("shop.example.com:8443"), "shop_example_com__8443"},
		{"the virtual host for every host is *", VirtualHostName("*"), "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
