// Command tiny greets: in chapter 1 the world, in chapter 2 a name.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	name := "world"
	//chapter:greet
	if len(os.Args) > 1 {
		name = strings.TrimSpace(os.Args[1])
	}
	//chapter:end
	fmt.Println(message(name))
}
