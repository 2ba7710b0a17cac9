//chapter:greet

package main

import "example.com/tiny/mydocker/internal/greet"

// message greets name.
func message(name string) string {
	return greet.Hello(name)
}
