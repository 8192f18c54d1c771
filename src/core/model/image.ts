/**
 * Container image references, by the grammar of the distribution project that
 * podman, containerd and docker share: [DOMAIN[:PORT]/]PATH[:TAG][@DIGEST].
 * Checked when a job is submitted, so that `foo bar` or `x;$(...)` is refused at
 * once instead of failing at every start.
 */

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?`
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const TAG = '[\\w][\\w.-]{0,127}'
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}'
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`)

/** The longest name (domain and path) registries accept; with a tag and a digest, a reference stays under 512. */
const NAME_MAX = 255
const REFERENCE_MAX = 512

/** Why `ref` is not an image reference, or null when it is one. */
export function imageReferenceProblem(ref: string): string | null {
  if (ref.length > REFERENCE_MAX) return `an image reference has at most ${REFERENCE_MAX} characters, got ${ref.length}`
  const name = ref.split('@')[0]!.replace(/:[\w][\w.-]*$/, '')
  if (REFERENCE.test(ref) && name.length <= NAME_MAX) return null
  const hint = 'expected [REGISTRY/]NAME[:TAG][@DIGEST] like localhost/app:1.0, the name in lower case'
  return `${JSON.stringify(ref)} is not an image reference: ${hint}`
}
