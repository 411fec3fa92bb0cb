// Text files embedded in the executable with `import … with {type: 'text'}`.
declare module '*.sh' {
  const text: string
  export default text
}
declare module '*.service' {
  const text: string
  export default text
}
