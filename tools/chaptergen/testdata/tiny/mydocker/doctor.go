//chapter:final

package main

// doctorNote is in mydocker/ only, in no chapter.
const doctorNote = "tiny is fine"
