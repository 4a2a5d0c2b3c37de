// Image references pinned by digest. Shared by the training job and the infra tests, which evaluate it with
// `bicep build-params` (compile-time evaluation) on good and bad references.

@export()
@description('True when image is <registry>/<repository>@sha256:<64 lowercase hex digits>.')
func isImageDigestReference(image string) bool =>
  length(split(image, '@sha256:')) == 2 && contains(split(image, '@sha256:')[0], '/') && !startsWith(image, '/') && !contains(split(image, '@sha256:')[0], ':') && length(split(image, '@sha256:')[1]) == 64 && empty(filter(range(0, 64), i => !contains('0123456789abcdef', substring(split(image, '@sha256:')[1], i, 1))))
