// A throwaway single-node KRaft broker owned by one test (e.g. to stop and restart it), run from the jars that
// `scripts/services/kafka.sh` cached (KAFKA_LIBS, KAFKA_JAVA from `services.sh env`). Same settings as that module.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onFreePort, PortInUseError } from './ports.ts'
import { waitFor } from './wait.ts'

export interface TestKafkaBroker {
  /** host:port of the PLAINTEXT listener; fixed by the first start() (it moves to other ports if those were taken). */
  readonly address: string
  /** Starts the broker (again) on the same port and log dir; resolves once it reports started. */
  start(): Promise<void>
  /** SIGTERM (controlled shutdown), waiting for the process to exit. */
  stop(): Promise<void>
  /** Stops it and deletes its directory. */
  destroy(): Promise<void>
}

function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run \`eval "$(bash scripts/services.sh env)"\` after \`services.sh up kafka\``)
  return value
}

export function createTestKafkaBroker(): Promise<TestKafkaBroker> {
  const libs = required('KAFKA_LIBS')
  const java = process.env.KAFKA_JAVA ?? 'java'
  const dir = mkdtempSync(join(tmpdir(), 'skalds-kafka-'))
  const jvm = ['-Xms64m', '-Xmx384m', '-XX:+UseG1GC', '-Djava.awt.headless=true', `-Dkafka.logs.dir=${dir}`, `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`]
  const classpath = `${libs}/*`
  const clusterId = execFileSync(java, ['-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' }).trim().split('\n').pop()!
  // The broker listens on `port`, its controller on `port + 1`; a fresh log dir formatted for them.
  const configure = (port: number): void => {
    rmSync(join(dir, 'data'), { recursive: true, force: true })
    mkdirSync(join(dir, 'data'))
    writeFileSync(
    join(dir, 'server.properties'),
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${port + 1}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${port + 1}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=2',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
    )
    execFileSync(java, [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', join(dir, 'server.properties')], { stdio: 'ignore' })
  }
  writeFileSync(
    join(dir, 'log4j2.properties'),
    [
      'status = warn',
      'appender.file.type = File',
      'appender.file.name = file',
      'appender.file.fileName = ${sys:kafka.logs.dir}/server.log',
      'appender.file.layout.type = PatternLayout',
      'appender.file.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = warn',
      'rootLogger.appenderRef.file.ref = file',
      'logger.kafka.name = kafka',
      'logger.kafka.level = info',
      '',
    ].join('\n'),
  )

  let child: ChildProcess | undefined
  let port: number | undefined
  const log = join(dir, 'server.log')
  const run = async (): Promise<void> => {
    // Only what this run appends to the log counts.
    const from = existsSync(log) ? readFileSync(log, 'utf8').length : 0
    const logged = (): string => (existsSync(log) ? readFileSync(log, 'utf8').slice(from) : '')
    let output = ''
    const running = spawn(java, [...jvm, '-cp', classpath, 'kafka.Kafka', join(dir, 'server.properties')], { stdio: ['ignore', 'ignore', 'pipe'] })
    running.stderr.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8192)
    })
    child = running
    await waitFor(
      () => {
        if (running.exitCode === null) return logged().includes('Kafka Server started')
        child = undefined
        if (/Address already in use/.test(logged() + output)) throw new PortInUseError(port!, `test kafka broker exited; see ${log}`)
        throw new Error(`test kafka broker exited with ${running.exitCode}; see ${log}\n${output}`)
      },
      `the test kafka broker to start (see ${log})`,
      90_000,
      200,
    )
  }
  const broker: TestKafkaBroker = {
    get address() {
      if (port === undefined) throw new Error('the test kafka broker has no address before its first start()')
      return `127.0.0.1:${port}`
    },
    async start() {
      if (port !== undefined) return run()
      // First start: on a free pair of ports, and on another pair if someone took them before the broker bound them.
      await onFreePort(async (chosen) => {
        port = chosen
        configure(chosen)
        await run()
      }, 2)
    },
    async stop() {
      const running = child
      child = undefined
      if (!running || running.exitCode !== null) return
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
      running.kill('SIGTERM')
      const timer = setTimeout(() => running.kill('SIGKILL'), 30_000)
      await exited
      clearTimeout(timer)
    },
    async destroy() {
      await broker.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return Promise.resolve(broker)
}
