import {describe, expect, test} from 'bun:test'
import {containerRunArgs, containerRunLine} from '../../../src/client/container-run-line.ts'

const FP = `sha256:${'ab'.repeat(32)}`
const base = {server: 'https://wfm.example.com:8443/v1alpha2/margo', caFingerprint: FP, image: 'margo-agent:0.1.0'}

describe('the docker run line of the agent container', () => {
  test('state dir at the same path inside and out, the host engine socket, host network, restart policy, pinned CA', () => {
    expect(containerRunLine(base)).toBe(
      'docker run -d --name margo-agent --restart unless-stopped --network host -v /var/lib/margo-agent:/var/lib/margo-agent ' +
      `-v /var/run/docker.sock:/var/run/docker.sock -e MARGO_SERVER=https://wfm.example.com:8443/v1alpha2/margo -e MARGO_CA_FINGERPRINT=${FP} margo-agent:0.1.0`,
    )
  })

  test('another state dir is named to the agent; a kubeconfig is mounted read-only; the join token and extra settings go in the environment', () => {
    const args = containerRunArgs({...base, stateDir: '/srv/margo/', kubeconfig: '/etc/rancher/k3s/k3s.yaml', joinToken: 'margo-join_abc', env: {MARGO_POLL_INTERVAL: '30s'}, name: 'agent-2'})
    expect(args).toContain('/srv/margo:/srv/margo')
    expect(args).toContain('MARGO_AGENT_STATE_DIR=/srv/margo')
    expect(args).toContain('/etc/rancher/k3s/k3s.yaml:/etc/margo/kubeconfig:ro')
    expect(args).toContain('KUBECONFIG=/etc/margo/kubeconfig')
    expect(args).toContain('MARGO_JOIN_TOKEN=margo-join_abc')
    expect(args).toContain('MARGO_POLL_INTERVAL=30s')
    expect(args.slice(0, 4)).toEqual(['run', '-d', '--name', 'agent-2'])
    expect(args.at(-1)).toBe('margo-agent:0.1.0')
  })

  test('values that are not plain words are quoted for the shell', () => {
    const line = containerRunLine({...base, server: "https://wfm.example.com/it's here"})
    expect(line).toContain(`'MARGO_SERVER=https://wfm.example.com/it'\\''s here'`)
  })

  test('a fingerprint that is not sha256:<hex>, or a relative state dir, is refused', () => {
    expect(() => containerRunArgs({...base, caFingerprint: 'md5:00'})).toThrow('sha256')
    expect(() => containerRunArgs({...base, stateDir: 'state'})).toThrow('absolute')
  })
})
