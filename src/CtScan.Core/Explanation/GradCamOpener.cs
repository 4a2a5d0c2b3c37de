namespace CtScan.Explanation;

/// <summary>
/// Opens Grad-CAM, plain or guided, for a model folder that holds its TorchSharp checkpoint. CtScan.Training has it
/// (<c>GradCam.Open</c>); a host that loads TorchSharp (<c>ctscan up</c>) hands it to the pipeline's explain step,
/// which otherwise makes occlusion maps only (ONNX Runtime alone).
/// </summary>
public delegate ISaliencyMethod GradCamOpener(string modelDirectory, bool guided);
