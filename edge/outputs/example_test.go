package outputs_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/edgeproject/edge/edge/outputs"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// A relay board that closes on a low input, pulsed when a rule fires, and
// a lamp held on while something is seen. On a device the pins come from
// outputs.OpenChipLine("gpiochip0", 17, "edge"); here they are periph's
// test pins.
func Example() {
	relayPin := &gpiotest.Pin{N: "GPIO17", Num: 17}
	lampPin := &gpiotest.Pin{N: "GPIO27", Num: 27}

	relay, err := outputs.New("relay1", relayPin, outputs.Config{
		Mode: outputs.Pulse, Pulse: 20 * time.Millisecond, ActiveLow: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	lamp, err := outputs.New("lamp", lampPin, outputs.Config{Mode: outputs.Hold})
	if err != nil {
		log.Fatal(err)
	}
	bank, err := outputs.NewBank(relay, lamp)
	if err != nil {
		log.Fatal(err)
	}
	defer bank.Close()

	fmt.Println("outputs:", bank.Names())
	if err := bank.SelfTest(context.Background(), 10*time.Millisecond); err != nil {
		log.Fatal(err)
	}

	// A rule fired: Trigger returns at once, the pulse ends by itself.
	if err := relay.Trigger(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("relay active:", relay.State(), "pin:", relayPin.Read())
	time.Sleep(150 * time.Millisecond)
	fmt.Println("relay active:", relay.State(), "pin:", relayPin.Read())

	// Hold while detected.
	o, _ := bank.Get("lamp")
	o.Set(true)
	fmt.Println("lamp active:", o.State(), "pin:", lampPin.Read())

	bank.Close()
	fmt.Println("after Close, lamp pin:", lampPin.Read())
	// Output:
	// outputs: [relay1 lamp]
	// relay active: true pin: Low
	// relay active: false pin: High
	// lamp active: true pin: High
	// after Close, lamp pin: Low
}

// Errors name the output and what was expected.
func ExampleNew_badConfig() {
	_, err := outputs.New("relay1", &gpiotest.Pin{N: "GPIO17"}, outputs.Config{Mode: outputs.Pulse})
	fmt.Println(err)
	// Output:
	// output "relay1": pulse width 0: pulse mode needs a width > 0 (e.g. 500ms)
}
