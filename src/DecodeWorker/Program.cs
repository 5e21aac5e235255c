// A decode worker: started and supervised by the host's decode sandbox, one per core. It decodes untrusted images
// so that a file that hangs or crashes a decoder costs this process, never the host. Not meant to be run by hand.
return ArtGrid.Imaging.Sandbox.DecodeWorkerLoop.Run(args);
