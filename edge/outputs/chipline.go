package outputs

// DefaultConsumer labels the GPIO lines this package requests, as shown by
// gpioinfo.
const DefaultConsumer = "edge"
