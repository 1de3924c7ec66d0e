// Package models is the MobileNet family as data: a catalog of the
// published quantized TFLite models, a verified downloader, and an
// analysis of any .tflite graph.
//
// The catalog ([Catalog], [Lookup]) is a YAML file compiled into the
// package: MobileNet V1 (widths 0.25 to 1.0, 128 to 224 pixels), V2, V3
// Large and Small, the SSD MobileNet detectors, and the Coral Edge TPU
// builds, each with its URL, sha256, input, preprocessing and labels.
// Entry.Verified is true only where the sha256 was checked against a copy
// of the file (the project's fixtures); other sums come from public
// material that Entry.SHA256Source names.
//
// [Fetch] downloads an entry with a progress bar, checks its sha256,
// extracts the .tflite from a .tgz or .zip, and renames it into place only
// once it is verified: a corrupt, short or canceled download leaves
// nothing behind. Models go to [DefaultDir] unless a directory is given.
//
// [Analyze] counts each layer's parameters and multiply-adds the way the
// MobileNet papers do (convolutions and fully connected layers, biases
// excluded from the multiply-adds), the operator histogram, and the peak
// of activation memory over the operator order. Run on the released
// models it gives, for example:
//
//	mobilenet_v1_0.25_128_quant   0.47M params   13.6M MAdds   (published 0.47M, 14M)
//	mobilenet_v2_1.0_224_quant    3.49M params  300.8M MAdds   (published 3.47M, 300M)
//	mobilenet_v3_small 1.0 224    2.54M params   56.5M MAdds   (paper 2.5M, 56M)
//
// The architectures themselves are built by package models/arch;
// [SeedTable] and [AnalyzeArchitecture] analyze them, and package
// models/bench times them on TFLite. [Chart] renders such numbers as an
// SVG bar chart.
package models
