//chapter:greet

package greet

import "testing"

func TestHello(t *testing.T) {
	if got := Hello("bob"); got != "hello, bob" {
		t.Errorf("Hello(bob) = %q", got)
	}
}
