module github.com/edgeproject/edge

go 1.26.8

require (
	github.com/mattn/go-tflite v1.0.5
	github.com/warthog618/gpiod v0.8.2
	gocv.io/x/gocv v0.31.0
	gopkg.in/yaml.v3 v3.0.1
	periph.io/x/conn/v3 v3.7.3
)

require (
	github.com/jonboulle/clockwork v0.5.0 // indirect
	github.com/mattn/go-pointer v0.0.1 // indirect
	golang.org/x/sys v0.10.0 // indirect
)
