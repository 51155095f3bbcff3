// skalds/bus/kafka: the Kafka engine (docs/bus.md); importing it loads @platformatic/kafka.
export { KafkaBus, type KafkaBusOptions } from '../kafka.ts'
