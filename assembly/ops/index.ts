// Every handler the generated dispatch switch calls, by instruction family.
export * from "./alu";
export * from "./muldiv";
export * from "./shift";
export * from "./bits";
export * from "./mov";
export * from "./stack";
export * from "./control";
export * from "./string";
export * from "./system";
export * from "./segment";
